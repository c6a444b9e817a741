-- wrk script for bench/webhooks.py: replays pre-signed webhook requests, a slice per thread.
-- args: <requests file> <path> <thread count>; each line: id \t timestamp \t signature \t body
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local reqs = {}
local idx = 0
function init(args)
  local n = tonumber(args[3])
  local lineno = 0
  for line in io.lines(args[1]) do
    if lineno % n == tid then
      local id, ts, sig, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
      reqs[#reqs + 1] = wrk.format("POST", args[2], {
        ["webhook-id"] = id, ["webhook-timestamp"] = ts,
        ["webhook-signature"] = sig, ["content-type"] = "application/json",
      }, body)
    end
    lineno = lineno + 1
  end
end

function request()
  idx = idx % #reqs + 1
  return reqs[idx]
end
