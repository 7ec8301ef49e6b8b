"""Fault knobs of the emulator: what goes wrong, and how slowly things happen.

A ``Faults`` value is captured by each batch when it is created, so changing the knobs later
never changes the fate of a batch that already exists. The model is lax on purpose: values that
arrive as strings from YAML, environment variables or the command line ("0.1", "true", "3")
are coerced. Unknown fields are refused so that a typo in a knob name is not silently ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Limits of the real OpenAI Batch API (per input file).
MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024


class Faults(BaseModel):
    """Everything the emulator can be told to do differently from a healthy provider."""

    model_config = ConfigDict(extra="forbid")

    # -- timing -------------------------------------------------------------------------------
    processing_seconds: float = Field(
        0.0, ge=0, description="Simulated time from create to done (validating ~10%, "
        "in_progress ~70%, finalizing ~20%). 0 = the first read already shows the end state.")
    finalizing_seconds: float = Field(
        0.0, ge=0, description="Extra seconds a batch stays `finalizing` (all lines answered, "
        "finalizing_at set) before it is `completed`: a batch stuck in finalizing.")

    # -- per-line failures (error-file lines with response.status_code >= 400) ----------------
    fail_match: str | None = Field(
        None, description="Fail lines whose request body JSON text contains this substring.")
    fail_rate: float = Field(
        0.0, ge=0, le=1, description="Fail this deterministic fraction of lines (chosen by a "
        "hash of custom_id + body).")
    fail_status: int = Field(500, ge=400, le=599, description="HTTP status of failed lines.")
    fail_times: int | None = Field(
        None, ge=0, description="How many times one request (hash of its body) fails before it "
        "succeeds, counted across batches; None = it always fails.")

    # -- answers that do not match what was asked for -----------------------------------------
    wrong_answer_match: str | None = Field(
        None, description="Requests whose body JSON text contains this substring get "
        "`wrong_answer` instead of an answer that honours the request: as the message content "
        "(chat), or parsed as JSON as the vector (embeddings). A model ignoring the schema.")
    wrong_answer: str = Field(
        "{}", description="The answer given to requests matching wrong_answer_match.")

    # -- whole-batch outcomes ------------------------------------------------------------------
    fail_validation: bool = Field(False, description="The batch fails validation as a whole.")
    invalid_match: str | None = Field(
        None, description="Input lines containing this substring are validation errors "
        "(code invalid_request), which fails the batch.")
    expire_after_lines: int | None = Field(
        None, ge=0, description="Only the first N lines (processing order) run; the batch ends "
        "`expired` and the rest come back with code batch_expired.")
    token_limit: int | None = Field(
        None, ge=0, description="Per-model enqueued-token quota, checked when a batch finishes "
        "validating: its input tokens plus those of every batch of the same model created "
        "before it and still validating, in_progress or finalizing at that moment (by the "
        "clock; ended batches do not count, later ones queue behind it) must not exceed this, "
        "else it ends `failed` with token_limit_exceeded (create itself succeeded). A batch's "
        "input tokens = the sum over its lines of the usage.prompt_tokens the emulator reports "
        "for that line (also for lines that fail): for models with a known tokenizer (gpt-4o, "
        "gpt-4.1, gpt-5, o-series, gpt-4, gpt-3.5-turbo, text-embedding-*) batchsql.tokens' "
        "count, which is what the real API bills; for others chat 3 + per message 4 + "
        "ceil(characters of its text / 4), embeddings ceil(characters / 4) per string input, "
        "1 per token id.")
    max_requests: int = Field(MAX_REQUESTS, ge=1, description="Most lines in one input file.")
    max_bytes: int = Field(MAX_BYTES, ge=1, description="Largest batch input file, in bytes.")

    # -- output file ---------------------------------------------------------------------------
    shuffle: bool = Field(
        True, description="Output and error lines come in a deterministic shuffled order "
        "(seeded by the batch id), never in input order.")
    malformed_match: str | None = Field(
        None, description="The output line of each request whose body JSON text contains "
        "this substring is cut about in half (not JSON, no closing brace, still ending in a "
        "newline). request_counts are unchanged.")
    duplicate_match: str | None = Field(
        None, description="The output line of each request whose body JSON text contains "
        "this substring appears twice in the output file. request_counts are unchanged.")
    extra_lines: int = Field(
        0, ge=0, description="Add N well-formed success lines to the output file whose "
        "custom_id (emulator-unknown-<n>) was never in the input. request_counts unchanged.")

    # -- HTTP-level faults on the API itself ---------------------------------------------------
    http_fail_times: int = Field(
        0, ge=0, description="The next N API requests matching http_fail_match get an HTTP "
        "error (counted from when the faults were last set).")
    http_fail_match: str | None = Field(
        None, description="Substring of 'METHOD /v1/path' selecting the requests that fail "
        "(None = any /v1 request), e.g. 'POST /v1/batches'.")
    http_fail_status: int = Field(500, ge=400, le=599, description="Status of injected errors.")
    http_fail_after: bool = Field(
        False, description="Perform the request before answering with the error (a lost "
        "response: the SDK retries a create and makes a duplicate batch).")
    download_cut_times: int = Field(
        0, ge=0, description="The next N downloads of a file's content end after about half "
        "of it: the connection closes with the rest unsent, as when it resets mid-download "
        "(counted from when the faults were last set).")
