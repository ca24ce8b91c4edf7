"""The seed's serving stack for tools/bench/serve_bench.py: FastAPI + uvicorn, features from Redis, scores
from the same trees loaded in LightGBM (the model `strata models export --to lightgbm` wrote).

    SERVE_BENCH_MODEL=model.txt SERVE_BENCH_REDIS_PORT=6392 SERVE_BENCH_STRING_FEATURES=gender \
    python3 -m uvicorn serve_fastapi:app --app-dir tools/bench/peers --workers 2 --host 127.0.0.1 --port 8090

Routes, answering in the shapes of `strata serve`:
- GET /v1/features/{msno}: HGETALL m:<msno> -> {"msno", "features": {name: number | text | null}}
- POST /v1/score {"msno": [...]}: HGETALL m:<msno> per user (one pipeline), the row in the model's feature
  order (numbers as float64, NULL as NaN; string features as their index in the model's pandas_categorical
  list, NaN when NULL or unseen: what a pandas Categorical with those categories gives LightGBM, see
  tools/lightgbm_export_check.py), then booster.predict(rows) and booster.predict(rows, pred_contrib=True):
  {"model", "results": [{"msno", "churn_probability", "bucket", "reasons": [{feature, value, contribution}]}],
  "unknown"}; reasons are the three largest positive TreeSHAP contributions, as Strata's.
Redis holds one hash per user, field = feature name, value = its text; NULL values are absent fields.
LightGBM predicts with num_threads=1 (one row per request; uvicorn runs one process per core).
"""
import os

import lightgbm
import numpy as np
import redis.asyncio as aioredis
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

MODEL = os.environ["SERVE_BENCH_MODEL"]
REDIS_PORT = int(os.environ.get("SERVE_BENCH_REDIS_PORT", "6392"))
STRING_FEATURES = [s for s in os.environ.get("SERVE_BENCH_STRING_FEATURES", "").split(",") if s]
BUCKET_A, BUCKET_B = 0.5, 0.15

booster = lightgbm.Booster(model_file=MODEL)
NAMES = booster.feature_name()
WIDTH = len(NAMES)
_lists = booster.pandas_categorical or []
_strings = [name for name in NAMES if name in STRING_FEATURES]  # model order, as pandas_categorical
if len(_strings) != len(_lists):
    raise SystemExit(f"serve_fastapi: the model has {len(_lists)} category list(s) but SERVE_BENCH_STRING_FEATURES names {_strings}")
CODES = {name: {text: float(code) for code, text in enumerate(categories)} for name, categories in zip(_strings, _lists)}
POSITION = {name: index for index, name in enumerate(NAMES)}
# Every feature of the view in its order (the model's and any others), for the features route.
NAMES_ALL = [s for s in os.environ.get("SERVE_BENCH_VIEW_FEATURES", "").split(",") if s] or NAMES
STRING_SET = set(STRING_FEATURES)

app = FastAPI()
pool = aioredis.ConnectionPool(host="127.0.0.1", port=REDIS_PORT, decode_responses=True, max_connections=64)
client = aioredis.Redis(connection_pool=pool)


class ScoreRequest(BaseModel):
    msno: list[str]


def number(text):
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


@app.get("/v1/features/{msno:path}")
async def features(msno: str):
    fields = await client.hgetall("m:" + msno)
    if not fields:
        raise HTTPException(status_code=404, detail=f"msno {msno[:64]} is not in the store")
    vector = {}
    for name in NAMES_ALL:
        text = fields.get(name)
        vector[name] = None if text is None else (text if name in STRING_SET else number(text))
    return {"msno": msno, "features": vector}


def row_of(fields, out):
    out.fill(np.nan)
    for name, text in fields.items():
        index = POSITION.get(name)
        if index is None:
            continue
        codes = CODES.get(name)
        if codes is None:
            out[index] = float(text)
        else:
            code = codes.get(text)
            if code is not None:
                out[index] = code


@app.post("/v1/score")
async def score(request: ScoreRequest):
    if not request.msno or len(request.msno) > 1000:
        raise HTTPException(status_code=400, detail="give 1 to 1000 msno")
    async with client.pipeline(transaction=False) as pipe:
        for msno in request.msno:
            pipe.hgetall("m:" + msno)
        found = await pipe.execute()
    keys, hashes, unknown = [], [], []
    for msno, fields in zip(request.msno, found):
        if fields:
            keys.append(msno)
            hashes.append(fields)
        else:
            unknown.append(msno)
    if not keys:
        raise HTTPException(status_code=404, detail="no msno given is in the store")
    rows = np.empty((len(keys), WIDTH), dtype=np.float64)
    for index, fields in enumerate(hashes):
        row_of(fields, rows[index])
    probabilities = booster.predict(rows, num_threads=1)
    contributions = booster.predict(rows, pred_contrib=True, num_threads=1)
    results = []
    for index, msno in enumerate(keys):
        p = float(probabilities[index])
        phi = contributions[index][:WIDTH]
        top = [int(f) for f in np.argsort(-phi, kind="stable")[:3] if phi[f] > 0]
        reasons = [{"feature": NAMES[f], "value": hashes[index].get(NAMES[f]), "contribution": float(phi[f])} for f in top]
        bucket = "A" if p >= BUCKET_A else ("B" if p >= BUCKET_B else "C")
        results.append({"msno": msno, "churn_probability": p, "bucket": bucket, "reasons": reasons})
    return {"model": "churn@lightgbm", "results": results, "unknown": unknown}
