"""The baseline for benchmarks/ack.py: a bare FastAPI endpoint on the same uvicorn settings,
answering every POST with a fixed JSON body of the same size as hubbot's reply."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request, Response

payload = Path(sys.argv[2]).read_bytes()
app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.post("/slack/events")
async def events(request: Request) -> Response:
    await request.body()
    return Response(payload, media_type="application/json")


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
