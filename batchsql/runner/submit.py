"""Submitting one batch so that no crash, retry or timeout ever pays for it twice.

Every step is recorded before the next is taken: the intent (with its request map) before the
upload, the file id after the upload, the batch id after the create. Batches carry their intent
id in metadata, so an intent whose outcome was lost is found at the provider and adopted; only
when the provider has no such batch is it created. The SDK retries a create that timed out,
which can leave two batches for one intent: the earliest is kept, the others cancelled.

Looking for those duplicates means listing the account's recent batches, a request per 100 of
them: done after every create, a run of B batches would list O(B^2) of them (a 10M-row run
makes 200 batches), and again before collecting each. So the lists are made only where a
duplicate can exist: after a create the SDK retried, or one for an intent an earlier run left
(whose own create may have gone through unseen). A batch made by its intent's only create,
in one request, is recorded as ``sole_create`` and never looked for again.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchsql import sql
from batchsql.errors import ProviderError
from batchsql.providers.base import BatchInfo
from batchsql.state import now

if TYPE_CHECKING:
    from batchsql.runner.core import Runner

#: Metadata key naming a batch's intent at the provider.
INTENT_KEY = "batchsql_batch"
#: How far before an intent was recorded to look for its batch or file (clock skew).
SLACK_SECONDS = 3600


class Submitter:
    """Moves intents to confirmed provider batches."""

    def __init__(self, runner: Runner) -> None:
        self.r = runner

    def resolve(self, batch: dict[str, Any], *, adopt_only: bool = False) -> BatchInfo | None:
        """Finish an intent an earlier run left: adopt its batch, or submit it now.

        With ``adopt_only`` (cancelling) an intent with no batch is abandoned, never sent.
        """
        found = self.r.provider.find_batches(INTENT_KEY, batch["batch_uuid"],
                                             since=_since(batch))
        if found:
            self.r.emit("warning", {"message": f"adopted batch {found[0].id} that an "
                                               "interrupted run had created"})
            return self._confirm(batch, found)
        if adopt_only:
            self.r.state.update_batch(batch["batch_uuid"], status="abandoned",
                                      error="cancelled before it was submitted")
            return None
        return self.send(batch, resumed=True)

    def send(self, batch: dict[str, Any], *, resumed: bool = False,
             uploaded: str | None = None) -> BatchInfo | None:
        """Upload (or reuse) the intent's file and create its batch; None if abandoned.

        ``uploaded``: the id of the file the caller has just uploaded for this intent.
        """
        uuid = batch["batch_uuid"]
        path = self.spool_file(uuid)
        provider = self.r.provider
        file_id = uploaded
        if uploaded is not None:
            self.r.state.update_batch(uuid, input_file_id=uploaded)
        elif resumed:
            if batch.get("input_file_id") and provider.file_exists(batch["input_file_id"]):
                file_id = batch["input_file_id"]
            else:
                file_id = provider.find_file(path.name, since=_since(batch))
        if file_id is None:
            if not path.exists():
                # Neither a batch nor a file exists at the provider and the local file is gone
                # (another machine, or a crash before the file was complete): send it afresh.
                self.r.state.update_batch(uuid, status="abandoned", error=(
                    "interrupted before upload; its rows are pending again"))
                return None
            file_id = provider.upload(path)
            self.r.state.update_batch(uuid, input_file_id=file_id)
        try:
            created = provider.create(file_id, endpoint=batch["endpoint"],
                                      metadata=self.metadata(batch))
        except ProviderError as e:
            if e.transient:
                raise  # it may exist: the next run looks for it before creating another
            found = provider.find_batches(INTENT_KEY, uuid, since=_since(batch))
            if found:  # an earlier attempt of the SDK's went through after all
                return self._confirm(batch, found)
            provider.delete_file(file_id)
            self.r.state.update_batch(uuid, status="abandoned", error=str(e))
            raise
        if not resumed and created.create_attempts == 1:
            return self._confirm(batch, [created], sole=True)
        found = provider.find_batches(INTENT_KEY, uuid, since=_since(batch))
        if created.id not in {b.id for b in found}:
            # A list that lags behind the create must not hide the batch we just made.
            found = sorted([*found, created], key=lambda b: (b.created_at, b.id))
        return self._confirm(batch, found)

    def _confirm(self, batch: dict[str, Any], found: list[BatchInfo], *,
                 sole: bool = False) -> BatchInfo:
        """Record the earliest batch of an intent as its batch; cancel any duplicates.

        ``sole``: the batch is the only one its intent can have (see the module's docstring).
        """
        keep, extras = found[0], found[1:]
        for extra in extras:
            if not extra.terminal:
                self.r.provider.cancel(extra.id)
            self.r.emit("warning", {"message": f"cancelled duplicate batch {extra.id} of "
                                               f"{keep.id} (a retried create)"})
        self.r.state.update_batch(
            batch["batch_uuid"], status=sql.SUBMITTED, provider_batch_id=keep.id,
            provider_status=keep.status, input_file_id=keep.input_file_id, submitted_at=now(),
            duplicates=",".join(e.id for e in extras) or None, sole_create=sole or None)
        batch.update(status=sql.SUBMITTED, provider_batch_id=keep.id,
                     provider_status=keep.status, submitted_at=now(), sole_create=sole or None)
        self.spool_file(batch["batch_uuid"]).unlink(missing_ok=True)
        return keep

    def recheck(self, batch: dict[str, Any], keep: BatchInfo) -> None:
        """Before collecting: cancel duplicates a lagging batch list hid at submit time."""
        if batch.get("sole_create"):
            return
        found = self.r.provider.find_batches(INTENT_KEY, batch["batch_uuid"],
                                             since=_since(batch))
        known = set(filter(None, (batch.get("duplicates") or "").split(",")))
        extras = [b for b in found if b.id != keep.id and b.id not in known]
        for extra in extras:
            if not extra.terminal:
                self.r.provider.cancel(extra.id)
            self.r.emit("warning", {"message": f"cancelled duplicate batch {extra.id} of "
                                               f"{keep.id} (a retried create)"})
        if extras:
            self.r.state.update_batch(batch["batch_uuid"], duplicates=",".join(
                sorted(known | {e.id for e in extras})))

    def metadata(self, batch: dict[str, Any]) -> dict[str, str]:
        """What the provider batch carries: enough to find its intent again."""
        return {"batchsql_spec": self.r.spec.name, "batchsql_run": str(batch["run_id"]),
                INTENT_KEY: batch["batch_uuid"], "batchsql_chunk": str(batch["chunk"])}

    def spool_file(self, batch_uuid: str) -> Path:
        return self.r.spool / f"{batch_uuid}.jsonl"


def _since(batch: dict[str, Any]) -> int:
    created = batch.get("created_at") or now()
    return int(created.replace(tzinfo=dt.timezone.utc).timestamp()) - SLACK_SECONDS
