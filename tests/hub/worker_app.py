"""Job handlers for worker subprocesses started by the tests (``--handlers worker_app:build_handlers``)."""

import asyncio
from pathlib import Path

from dbfixtures import effects

from core.jobs import JobHandlers


def build_handlers(settings):
    handlers = JobHandlers()

    @handlers.register("test.effect")
    async def effect(session, payload, job):
        await session.execute(effects.insert().values(job_id=job.id, note=f"attempt {job.attempts}"))
        await session.flush()
        if payload.get("block_on_attempt") == job.attempts:
            # Mid-job: the effect is written but not committed. The test kills us here.
            Path(payload["marker"]).write_text(str(job.attempts))  # noqa: ASYNC240
            await asyncio.Event().wait()  # never set: hangs until killed

    return handlers
