#!/usr/bin/env python3
"""Generate golden vectors for the Attendee canonical-JSON tests.

Attendee (bots/webhook_utils.py sign_payload) signs
    base64(HMAC-SHA256(secret, json.dumps(payload, sort_keys=True,
        ensure_ascii=False, separators=(",", ":")).encode("utf-8")))
and POSTs the payload with requests' json= (json.dumps defaults: ", " and
": " separators, ensure_ascii=True, insertion order). This script writes,
for each vector, what real Python produces: the canonical text of the
parsed input, the default ("posted") encoding and the signature.

Run once from this directory, commit canonical_vectors.json; the Go tests
read the JSON file and never need Python:

    python3 gen_vectors.py > canonical_vectors.json
"""

import base64
import hashlib
import hmac
import json
import random
import struct
import sys

# A fixed project secret, base64 of 32 bytes as Attendee's dashboard shows it.
SECRET_B64 = base64.b64encode(bytes(range(32))).decode()
SECRET = base64.b64decode(SECRET_B64)


def canonical(obj):
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sign(obj):
    mac = hmac.new(SECRET, canonical(obj).encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def callback(metadata, bot_id="bot_weIAju4OXNZkDTpZ", meeting_url="https://us02web.zoom.us/j/85012345678?pwd=abc.1"):
    # The insertion order of external_callback_utils.make_callback_request.
    return {"bot_id": bot_id, "bot_metadata": metadata, "callback_type": "zoom_tokens", "meeting_url": meeting_url}


def state_change(data, metadata=None):
    # The insertion order of tasks/deliver_webhook_task.py.
    return {
        "idempotency_key": "0d4b9b8e-4f7c-4d0e-9a39-2b1f3c8c7a10",
        "bot_id": "bot_weIAju4OXNZkDTpZ",
        "bot_metadata": metadata,
        "trigger": "bot.state_change",
        "data": data,
    }


# Python objects as Attendee holds them: POSTed with the default encoding.
POSTED = [
    ("callback plain", callback({"onbehalf_bot_id": "bot_01HZX"})),
    ("callback null metadata", callback(None)),
    ("callback accents", callback({"onbehalf_bot_id": "b1", "name": "Zoë Ãlvarez, réunion"})),
    ("callback cjk", callback({"title": "日本語の会議", "room": "会議室"})),
    ("callback emoji", callback({"party": "🎉 launch 🚀", "flag": "🇫🇷"})),
    ("callback html", callback({"note": "<b>a & b</b> > c < d", "url": "https://x.test/?a=1&b=2"})),
    ("callback controls", callback({"c": "tab\there\nnewline\rcr\bbs\fff\x00nul\x01\x1f\x7fdel"})),
    ("callback quotes", callback({"q": 'say "hi" \\ back\\slash /slash'})),
    ("callback separators", callback({"s": "line\u2028sep\u2029para \u0085nel \u00a0nbsp \ufeffbom"})),
    ("callback key order", callback({"zeta": "1", "Alpha": "2", "alpha": "3", "_u": "4", "a b": "5", "é": "6", "e": "7", "10": "8", "9": "9", "": "empty"})),
    ("callback astral keys", callback({"\uffff": "bmp max", "\U0001F389": "astral", "\ue000": "private", "\ud7ff": "below surrogates", "z": "ascii", "\u00e9": "latin"})),
    ("callback nested", callback({"a": {"z": [1, {"y": None, "b": True}], "c": []}, "b": [{}, [], [[]]], "n": False})),
    ("callback numbers", callback({"i": 0, "neg": -7, "big": 10 ** 30, "f": 1.0, "g": 1e100, "h": -0.0, "k": 0.1, "m": 1.5e-7, "p": 1e16, "q": 1e15, "r": 123456789.123, "s": 5e-324, "t": 1.7976931348623157e308, "u": 2.5e-5, "v": 0.0001})),
    ("callback vanity meeting", callback({"onbehalf_bot_id": "x"}, meeting_url="https://acme.zoom.us/j/123456789")),
    ("state change joining", state_change({"new_state": "joining", "old_state": "ready", "created_at": "2026-03-02T10:00:00.123456+00:00", "event_type": "join_requested", "event_metadata": {"source": "api"}, "event_sub_type": None}, {"onbehalf_bot_id": "bot_01"})),
    ("state change obf timeout", state_change({"new_state": "fatal_error", "old_state": "joining", "created_at": "2026-03-02T10:10:00+00:00", "event_type": "could_not_join_meeting", "event_metadata": {}, "event_sub_type": "authorized_user_not_in_meeting_timeout_exceeded"}, {"onbehalf_bot_id": "bot_01", "owner": "Zoë <zoe@example.com>"})),
    ("empty object", {}),
    ("empty array top", []),
    ("string top", "日本 & <tag> 🎉"),
    ("deep", {"a": {"b": {"c": {"d": {"e": {"f": [[[[["deep"]]]]]}}}}}}),
]

# JSON texts as some other encoder might write them: the canonical form is
# that of the value Python parses from them.
TEXTS = [
    ("spaces everywhere", ' { "b" : [ 1 , 2 ] ,\n\t"a" : "x" \r\n} '),
    ("escaped slash", '{"u":"https:\\/\\/zoom.us\\/j\\/1"}'),
    ("upper hex escapes", '{"e":"\\u00E9\\u65E5\\uD83C\\uDF89"}'),
    ("raw utf8", '{"e":"é日本🎉","k":"<>&"}'),
    ("escaped controls", '{"c":"\\u0000\\u001F\\u007f\\u0008\\u000C\\u000a"}'),
    ("escaped separators", '{"s":"\\u2028\\u2029"}'),
    ("numbers not repr", '{"a":1e100,"b":1E5,"c":-0,"d":0.10,"e":1.0e0,"f":1e-7,"g":100e-2,"h":-0.0e0,"i":1.5E+3,"j":123456789012345678901234567890,"k":1e22,"l":1e-400,"m":0.30000000000000004}'),
    ("numbers in array", '[0, -0, 1.0, -1.5e300, 12345678901234567890, 9007199254740993, 9007199254740993.0]'),
    ("literals", '{"t":true,"f":false,"n":null}'),
    ("sorted astral vs bmp", '{"\\ud83c\\udf89":1,"\\uffff":2,"\\ue000":3,"\\ud7ff":4}'),
]


def float_vectors():
    rnd = random.Random(20260302)
    lits = [
        "0", "-0", "1", "-1", "10", "0.0", "-0.0", "1.0", "1e0", "1E0", "1e1", "1e15", "1e16", "1e17",
        "1e100", "1e-4", "1e-5", "0.0001", "0.00001", "123456789012345.6", "1234567890123456.7",
        "12345678901234567.8", "0.1", "0.2", "0.3", "1.5e-7", "5e-324", "4.9e-324", "2e-324",
        "1.7976931348623157e308", "2.2250738585072014e-308", "9007199254740993", "-1e-400",
        "1e22", "1e21", "1e23", "100e-2", "0.5", "1.25", "3.14159", "2.718281828459045",
        "100000000000000000000000", "1.0e+3", "7E-10", "-2.5E+20",
    ]
    for _ in range(1500):
        bits = rnd.getrandbits(64)
        x = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if x != x or x in (float("inf"), float("-inf")):
            continue
        lits.append(repr(x))
    for _ in range(300):
        lits.append(repr(rnd.uniform(-1e6, 1e6)))
        lits.append(repr(rnd.random() * 10 ** rnd.randint(-30, 30)))
        lits.append(str(rnd.randint(-10 ** 20, 10 ** 20)))
        lits.append("%de%d" % (rnd.randint(1, 999), rnd.randint(-330, 310)))
    out, infinite = [], []
    for lit in lits:
        text = json.dumps(json.loads(lit))
        if text in ("Infinity", "-Infinity"):
            # Python reads it as infinity; requests (allow_nan=False) cannot
            # post it, so Attendee never sends it: the Go side refuses it.
            infinite.append(lit)
        else:
            out.append([lit, text])
    return out, infinite


def main():
    vectors = []
    for name, obj in POSTED:
        posted = json.dumps(obj)
        assert json.loads(posted) == obj or name == "callback numbers"
        vectors.append({"name": name, "posted": True, "input": posted, "canonical": canonical(obj), "signature": sign(obj)})
    for name, text in TEXTS:
        obj = json.loads(text)
        vectors.append({"name": name, "posted": False, "input": text, "canonical": canonical(obj), "signature": sign(obj)})
    numbers, infinite = float_vectors()
    doc = {
        "generator": "gen_vectors.py (Python %d.%d.%d)" % sys.version_info[:3],
        "secret": SECRET_B64,
        "vectors": vectors,
        "numbers": numbers,
        "infinite": infinite,
    }
    json.dump(doc, sys.stdout, ensure_ascii=True, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
