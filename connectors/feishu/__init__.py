"""飞书 (Feishu / Lark) approval v4: OA approvals started from LendHub and their status callbacks."""
