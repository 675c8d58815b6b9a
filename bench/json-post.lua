-- POST the JSON body in BODY (an env var) on every request.
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["content-type"] = "application/json"
