#!/usr/bin/python3
"""cwlogs.py: a small CloudWatch Logs service for tests, on awsjson.py.

Needs Python 3 and botocore (Debian: python3-botocore); run it with
/usr/bin/python3.  Listens on 127.0.0.1 only.  Every request's SigV4
signature is checked by awsjson.py (botocore recomputes it), and the
faults of awsjson.py apply (throttle, fail500, stall, skew).

Operations (X-Amz-Target Logs_20140328.*), enough for opentoe and for
`aws logs ... --endpoint-url http://127.0.0.1:PORT` to read back:
  CreateLogGroup, CreateLogStream   ResourceAlreadyExistsException when
                                    present; name rules checked
  PutLogEvents                      every limit of spec E.1 checked, and a
                                    violation answered with AWS's error
                                    shape, so a batching bug fails loudly:
      the body is strict UTF-8 JSON (SerializationException),
      1 to 10,000 events, each with an integer timestamp and a message of
      at least 1 character, message UTF-8 bytes + 26 <= --max-event-bytes
      (262,144), the sum over the batch <= 1,048,576, timestamps in
      chronological order, a span of at most 24 hours
      (InvalidParameterException), the group and stream present
      (ResourceNotFoundException).  Events more than 2 h ahead, older
      than 14 days, or older than the retention (--retention-days) are
      rejected in rejectedLogEventsInfo, the rest stored (with
      --strict-time: the whole batch refused, the old behaviour).
  GetLogEvents                      by timestamp, paged with
                                    nextForwardToken/nextBackwardToken
  DescribeLogStreams, DescribeLogGroups

Faults, on the command line or POST /_control (awsjson.py's keys, and):
  "down": S          refuse connections for S seconds (the listening socket
                     is closed and opened again; requests arriving on open
                     connections are dropped without an answer)
  "unavailable": S   answer 503 ServiceUnavailableException for S seconds
  "put_delay_ms": MS each PutLogEvents is answered MS after its events are
                     stored (so a kill can land between the two)
  "accept_stall": N  the next N PutLogEvents store their events, then give no
                     answer for --stall-seconds (a retry then duplicates)
  "retention_days": D  events older than D days are expired
  "max_event_bytes": N  the event size limit (--max-event-bytes)
  "strict_time": bool, "count_only": bool, "reset": true (forget everything)
GET /_stats: {"streams": {"GROUP STREAM": {"events", "distinct",
"duplicates", "puts", "first", "last"}}, "puts", "rejected"}.
GET /_events?group=G&stream=S: {"events": [[timestamp, message], ...]} in
arrival order.
"""

import json
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsjson  # noqa: E402
import common  # noqa: E402
from awsjson import AwsError  # noqa: E402

MAX_BATCH_BYTES = 1048576
MAX_EVENTS = 10000
EVENT_OVERHEAD = 26
SPAN_MS = 24 * 3600 * 1000
AHEAD_MS = 2 * 3600 * 1000
AGE_MS = 14 * 24 * 3600 * 1000
GROUP_RE = re.compile(r"^[\.\-_/#A-Za-z0-9]{1,512}$")

LOCK = threading.RLock()
CW = {
    "down_until": 0.0, "unavailable_until": 0.0, "put_delay_ms": 0, "accept_stall": 0,
    "retention_days": 0, "strict_time": False, "count_only": False,
}
GROUPS = {}          # name -> {"created": ms, "streams": {name: Stream}}
TOTALS = {"puts": 0, "rejected": 0, "invalid": 0}
OPTS = None
SERVER = {"srv": None, "stopping": False}


class Stream:
    def __init__(self, name, now_ms):
        self.name = name
        self.created = now_ms
        self.ts = []
        self.msgs = []
        self.ingest = []
        self.count = 0
        self.puts = 0
        self.first = None
        self.last = None
        self.last_ingest = None
        self.sorted_cache = None


def now_ms():
    return int(awsjson.server_now() * 1000)


def load(body):
    try:
        text = body.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise AwsError(400, "SerializationException", "the body is not valid UTF-8: %s" % e)
    try:
        req = json.loads(text)
    except ValueError as e:
        raise AwsError(400, "SerializationException", "the body is not JSON: %s" % e)
    if not isinstance(req, dict):
        raise AwsError(400, "SerializationException", "the body is not a JSON object")
    return req


def invalid(msg):
    with LOCK:
        TOTALS["invalid"] += 1
    return AwsError(400, "InvalidParameterException", msg)


def need_str(req, key, lo=1, hi=512):
    v = req.get(key)
    if not isinstance(v, str) or not lo <= len(v) <= hi:
        raise invalid("1 validation error detected: Value at '%s' failed to satisfy constraint: "
                      "Member must have length between %d and %d" % (key, lo, hi))
    return v


def group_of(req, create=False):
    name = req.get("logGroupName") or req.get("logGroupIdentifier")
    if not isinstance(name, str) or not GROUP_RE.match(name):
        raise invalid("1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy "
                      "constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+" % name)
    g = GROUPS.get(name)
    if g is None and not create:
        raise AwsError(400, "ResourceNotFoundException", "The specified log group does not exist.")
    return name, g


def stream_of(req, g):
    name = need_str(req, "logStreamName")
    if ":" in name or "*" in name:
        raise invalid("1 validation error detected: Value '%s' at 'logStreamName' failed to satisfy "
                      "constraint: Member must satisfy regular expression pattern: [^:*]*" % name)
    st = g["streams"].get(name)
    if st is None:
        raise AwsError(400, "ResourceNotFoundException", "The specified log stream does not exist.")
    return st


# ---- operations ----------------------------------------------------------------

def op_create_group(handler, body):
    req = load(body)
    with LOCK:
        name, g = group_of(req, create=True)
        if g is not None:
            raise AwsError(400, "ResourceAlreadyExistsException", "The specified log group already exists")
        GROUPS[name] = {"created": now_ms(), "streams": {}}
    return 200, b""


def op_create_stream(handler, body):
    req = load(body)
    with LOCK:
        _, g = group_of(req)
        name = need_str(req, "logStreamName")
        if ":" in name or "*" in name:
            raise invalid("Value '%s' at 'logStreamName' failed to satisfy constraint: Member must satisfy "
                          "regular expression pattern: [^:*]*" % name)
        if name in g["streams"]:
            raise AwsError(400, "ResourceAlreadyExistsException", "The specified log stream already exists")
        g["streams"][name] = Stream(name, now_ms())
    return 200, b""


def check_batch(events):
    """Raises InvalidParameterException for any limit of spec E.1 the batch breaks."""
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise invalid("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: "
                      "Member must have length less than or equal to %d and greater than or equal to 1"
                      % MAX_EVENTS)
    total = 0
    prev = None
    tmin = tmax = None
    out = []
    for i, e in enumerate(events):
        if not isinstance(e, dict):
            raise AwsError(400, "SerializationException", "logEvents[%d] is not an object" % i)
        ts, msg = e.get("timestamp"), e.get("message")
        if not isinstance(ts, int) or isinstance(ts, bool) or ts < 0:
            raise invalid("logEvents.%d.member.timestamp: Member must not be null and at least 0" % (i + 1))
        if not isinstance(msg, str) or len(msg) < 1:
            raise invalid("1 validation error detected: Value at 'logEvents.%d.member.message' failed to "
                          "satisfy constraint: Member must have length greater than or equal to 1" % (i + 1))
        size = len(msg.encode("utf-8", errors="surrogatepass")) + EVENT_OVERHEAD
        if size > OPTS.max_event_bytes:
            raise invalid("Log event too large: %d bytes exceeds limit of %d" % (size, OPTS.max_event_bytes))
        total += size
        if prev is not None and ts < prev:
            raise invalid("Log events in a single PutLogEvents request must be in chronological order.")
        prev = ts
        tmin = ts if tmin is None else min(tmin, ts)
        tmax = ts if tmax is None else max(tmax, ts)
        out.append((ts, msg))
    if total > MAX_BATCH_BYTES:
        raise invalid("Upload too large: %d bytes exceeds limit of %d" % (total, MAX_BATCH_BYTES))
    if tmax - tmin > SPAN_MS:
        raise invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
    return out


def op_put(handler, body):
    req = load(body)
    events = check_batch(req.get("logEvents"))
    now = now_ms()
    with LOCK:
        _, g = group_of(req)
        st = stream_of(req, g)
        n = len(events)
        old_end = 0
        expired_end = 0
        new_start = n
        retention = CW["retention_days"]
        for i, (ts, _) in enumerate(events):
            if ts < now - AGE_MS:
                old_end = i + 1
            if retention and ts < now - retention * 86400 * 1000:
                expired_end = i + 1
            if ts > now + AHEAD_MS and new_start == n:
                new_start = i
        if (old_end or expired_end or new_start < n) and CW["strict_time"]:
            raise invalid("Log events in a single PutLogEvents request must be within 14 days and at most "
                          "2 hours in the future.")
        keep = events[max(old_end, expired_end):new_start]
        if st.sorted_cache is not None and keep:
            st.sorted_cache = None
        for ts, msg in keep:
            if not CW["count_only"]:
                st.ts.append(ts)
                st.msgs.append(msg)
                st.ingest.append(now)
            st.first = ts if st.first is None else min(st.first, ts)
            st.last = ts if st.last is None else max(st.last, ts)
        st.count += len(keep)
        st.puts += 1
        st.last_ingest = now
        TOTALS["puts"] += 1
        TOTALS["rejected"] += n - len(keep)
        delay = CW["put_delay_ms"]
        stall = CW["accept_stall"] > 0
        if stall:
            CW["accept_stall"] -= 1
    out = {"nextSequenceToken": "%056d" % TOTALS["puts"]}
    info = {}
    if old_end:
        info["tooOldLogEventEndIndex"] = old_end
    if expired_end:
        info["expiredLogEventEndIndex"] = expired_end
    if new_start < n:
        info["tooNewLogEventStartIndex"] = new_start
    if info:
        out["rejectedLogEventsInfo"] = info
    if stall:
        time.sleep(OPTS.stall_seconds)
        raise DropConnection()
    if delay:
        time.sleep(delay / 1000.0)
    return 200, out


def sorted_events(st):
    if st.sorted_cache is None:
        st.sorted_cache = sorted(range(len(st.ts)), key=lambda i: (st.ts[i], i))
    return st.sorted_cache


def op_get_events(handler, body):
    req = load(body)
    with LOCK:
        _, g = group_of(req)
        st = stream_of(req, g)
        order = sorted_events(st)
        lo_t, hi_t = req.get("startTime"), req.get("endTime")
        idx = [i for i in order if (lo_t is None or st.ts[i] >= lo_t) and (hi_t is None or st.ts[i] < hi_t)]
        limit = req.get("limit", MAX_EVENTS)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_EVENTS:
            raise invalid("limit must be between 1 and 10000")
        token = req.get("nextToken")
        total = len(idx)
        if token:
            m = re.match(r"^([fb])/(\d+)$", token)
            if not m:
                raise invalid("The specified nextToken is invalid.")
            pos = min(int(m.group(2)), total)
            if m.group(1) == "f":
                start, end = pos, min(total, pos + limit)
            else:
                start, end = max(0, pos - limit), pos
        elif req.get("startFromHead"):
            start, end = 0, min(total, limit)
        else:
            start, end = max(0, total - limit), total
        events = []
        size = 0
        for k in range(start, end):
            i = idx[k]
            size += len(st.msgs[i].encode()) + EVENT_OVERHEAD
            if size > MAX_BATCH_BYTES and events:
                end = k
                break
            events.append({"timestamp": st.ts[i], "message": st.msgs[i], "ingestionTime": st.ingest[i]})
    return 200, {"events": events, "nextForwardToken": "f/%056d" % end, "nextBackwardToken": "b/%056d" % start}


def stream_json(gname, st):
    out = {"logStreamName": st.name, "creationTime": st.created,
           "arn": "arn:aws:logs:%s:123456789012:log-group:%s:log-stream:%s" % (OPTS.region or "us-east-1",
                                                                             gname, st.name),
           "storedBytes": 0}
    if st.first is not None:
        out.update(firstEventTimestamp=st.first, lastEventTimestamp=st.last, lastIngestionTime=st.last_ingest)
    return out


def paged(items, req, key):
    limit = req.get("limit", 50)
    if not isinstance(limit, int) or not 1 <= limit <= 50:
        raise invalid("limit must be between 1 and 50")
    start = 0
    if req.get("nextToken"):
        try:
            start = int(req["nextToken"])
        except ValueError:
            raise invalid("The specified nextToken is invalid.")
    out = {key: items[start:start + limit]}
    if start + limit < len(items):
        out["nextToken"] = str(start + limit)
    return out


def op_describe_streams(handler, body):
    req = load(body)
    with LOCK:
        gname, g = group_of(req)
        prefix = req.get("logStreamNamePrefix") or ""
        if req.get("orderBy") == "LastEventTime":
            if prefix:
                raise invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
            streams = sorted(g["streams"].values(), key=lambda s: (s.last or 0))
        else:
            streams = sorted((s for s in g["streams"].values() if s.name.startswith(prefix)), key=lambda s: s.name)
        if req.get("descending"):
            streams.reverse()
        items = [stream_json(gname, s) for s in streams]
    return 200, paged(items, req, "logStreams")


def op_describe_groups(handler, body):
    req = load(body)
    with LOCK:
        prefix = req.get("logGroupNamePrefix") or ""
        items = [{"logGroupName": n, "creationTime": g["created"], "storedBytes": 0,
                  "arn": "arn:aws:logs:%s:123456789012:log-group:%s:*" % (OPTS.region or "us-east-1", n)}
                 for n, g in sorted(GROUPS.items()) if n.startswith(prefix)]
    return 200, paged(items, req, "logGroups")


for _name, _fn in {"CreateLogGroup": op_create_group, "CreateLogStream": op_create_stream,
                   "PutLogEvents": op_put, "GetLogEvents": op_get_events,
                   "DescribeLogStreams": op_describe_streams, "DescribeLogGroups": op_describe_groups}.items():
    setattr(awsjson, "op_Logs_20140328_" + _name, _fn)


# ---- the server ------------------------------------------------------------------

class DropConnection(Exception):
    """Leave without an answer."""


class Handler(awsjson.Handler):
    server_version = "opentoe-test-cwlogs"

    def do_POST(self):
        if self.path != "/_control":
            with LOCK:
                down = time.time() < CW["down_until"]
                unavailable = time.time() < CW["unavailable_until"]
            if down:
                self.read_body()
                self.log_line(self.headers.get("X-Amz-Target"), None, 0, "down")
                self.close_connection = True
                return
            if unavailable:
                self.read_body()
                return self.send_error_shape(AwsError(503, "ServiceUnavailableException",
                                                      "The service is unavailable."),
                                             self.headers.get("X-Amz-Target"), None)
        try:
            return super().do_POST()
        except DropConnection:
            self.log_line(self.headers.get("X-Amz-Target"), None, 0, "accept-stall")
            self.close_connection = True

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/_stats":
            return self.send(200, json.dumps(stats()).encode(), "application/json")
        if url.path == "/_events":
            q = urllib.parse.parse_qs(url.query)
            with LOCK:
                g = GROUPS.get((q.get("group") or [""])[0])
                st = g["streams"].get((q.get("stream") or [""])[0]) if g else None
                ev = [[t, m] for t, m in zip(st.ts, st.msgs)] if st else []
            return self.send(200 if st else 404, json.dumps({"events": ev}).encode(), "application/json")
        return super().do_GET()

    def apply_control(self, c):
        with LOCK:
            if c.get("reset"):
                GROUPS.clear()
                for k in TOTALS:
                    TOTALS[k] = 0
            if "unavailable" in c:
                CW["unavailable_until"] = time.time() + float(c["unavailable"])
            for k in ("put_delay_ms", "accept_stall", "retention_days"):
                if k in c:
                    CW[k] = int(c[k])
            for k in ("strict_time", "count_only"):
                if k in c:
                    CW[k] = bool(c[k])
            if "down" in c:
                CW["down_until"] = time.time() + float(c["down"])
            if "max_event_bytes" in c:
                OPTS.max_event_bytes = int(c["max_event_bytes"])
        super().apply_control(c)

    def controlled(self, c):
        # Down: the serving loop in main() closes the socket once it ends.
        if "down" in c:
            common.shutdown_soon(SERVER["srv"])


def stats():
    with LOCK:
        streams = {}
        for gname, g in GROUPS.items():
            for sname, st in g["streams"].items():
                distinct = len(set(st.msgs)) if not CW["count_only"] else st.count
                streams["%s %s" % (gname, sname)] = {
                    "events": st.count, "distinct": distinct, "duplicates": st.count - distinct,
                    "puts": st.puts, "first": st.first, "last": st.last}
        return {"streams": streams, "puts": TOTALS["puts"], "rejected": TOTALS["rejected"],
                "invalid": TOTALS["invalid"]}


def make_server(port):
    for _ in range(200):
        try:
            return common.listen(Handler, port)
        except OSError:
            time.sleep(0.05)
    return common.listen(Handler, port)


def main():
    global OPTS
    ap = common.arg_parser("test CloudWatch Logs service for opentoe")
    awsjson.add_aws_args(ap)
    ap.add_argument("--max-event-bytes", type=int, default=262144,
                    help="largest event: message UTF-8 bytes + 26 (262,144: the 256 KiB limit)")
    ap.add_argument("--retention-days", type=int, default=0)
    ap.add_argument("--strict-time", action="store_true")
    ap.add_argument("--count-only", action="store_true", help="count events without keeping them (benchmarks)")
    ap.add_argument("--put-delay-ms", type=int, default=0)
    OPTS = ap.parse_args()
    awsjson.configure(OPTS, ap)
    CW.update(retention_days=OPTS.retention_days, strict_time=OPTS.strict_time, count_only=OPTS.count_only,
              put_delay_ms=OPTS.put_delay_ms)

    srv = make_server(OPTS.port)
    SERVER["srv"] = srv
    port = srv.server_address[1]
    common.announce(port, OPTS.port_file)

    def stop():
        SERVER["stopping"] = True
        common.shutdown_soon(SERVER["srv"])

    common.on_stop(stop)
    while True:
        SERVER["srv"].serve_forever()
        SERVER["srv"].server_close()
        if SERVER["stopping"]:
            return 0
        # Down: nothing listens until the time is up.
        while time.time() < CW["down_until"] and not SERVER["stopping"]:
            time.sleep(0.05)
        if SERVER["stopping"]:
            return 0
        SERVER["srv"] = make_server(port)


if __name__ == "__main__":
    sys.exit(main())
