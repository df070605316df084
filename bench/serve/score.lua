-- wrk script for bench/serve/run.sh: POST the file $WRK_BODY (JSON) to the URL's path.
local file = assert(io.open(assert(os.getenv("WRK_BODY"), "WRK_BODY not set"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
