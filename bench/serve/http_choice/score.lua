-- wrk script: POST /score with the ~200-byte JSON body in body.json (next to this file).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local file = assert(io.open(here .. "body.json", "rb"))
wrk.method = "POST"
wrk.path = "/score"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
-- Any non-2xx answer is counted by wrk as "Non-2xx or 3xx responses"; run.sh fails on it.
