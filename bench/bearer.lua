-- GET with the session in SESSION (an env var) as a bearer token.
wrk.headers["authorization"] = "Bearer " .. os.getenv("SESSION")
