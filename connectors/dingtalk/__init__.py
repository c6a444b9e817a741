"""钉钉 (DingTalk) workflow: OA approvals started from LendHub and their encrypted callbacks."""
