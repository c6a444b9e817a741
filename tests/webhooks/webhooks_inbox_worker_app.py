"""Job handlers for the worker subprocess of the kill test (``--handlers webhooks_inbox_worker_app:build_handlers``).

The plugin appends ``done <event id>`` to ``LENDHUB_TEST_WEBHOOK_EFFECTS`` for every event; for
the event named by ``LENDHUB_TEST_WEBHOOK_BLOCK`` it first writes the marker file and hangs,
the first time only, so the test can kill the worker mid-dispatch.
"""

import asyncio
import os
from pathlib import Path

from core.jobs import JobHandlers
from hub.webhooks import register_inbox_handlers
from plugins.manager import make_plugin_manager
from plugins.sdk import hookimpl


class BlockingPlugin:
    LENDHUB_HOOK_API = "1.0"

    @hookimpl
    async def webhook_received(self, delivery):
        marker = Path(os.environ["LENDHUB_TEST_WEBHOOK_MARKER"])
        if delivery.event.id == os.environ["LENDHUB_TEST_WEBHOOK_BLOCK"] and not marker.exists():  # noqa: ASYNC240
            marker.write_text(delivery.inbox_id)  # noqa: ASYNC240
            await asyncio.Event().wait()  # never set: hangs until killed
        with Path(os.environ["LENDHUB_TEST_WEBHOOK_EFFECTS"]).open("a") as effects:  # noqa: ASYNC230
            effects.write(f"done {delivery.event.id}\n")


def build_handlers(settings):
    host = make_plugin_manager(load_entrypoints=False, builtins=())
    host.add_plugin("blocking", BlockingPlugin())
    handlers = JobHandlers()
    register_inbox_handlers(handlers, host, retry_delays=[0])
    return handlers
