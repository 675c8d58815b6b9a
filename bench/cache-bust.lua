-- wrk script: every request gets a fresh value of a cache-busting parameter.
--   BUST_PARAM=_      (default) the edge's cache-buster: it bypasses the edge
--                     cache, so each request reaches the catalog function and
--                     PostgreSQL ("caching off").
--   BUST_PARAM=_fill  an ignored parameter the edge cache keys on: each request
--                     misses every tier and then fills them (the full miss path).
-- Usage: [BUST_PARAM=...] wrk -s bench/cache-bust.lua URL
local counter = 0
local param = os.getenv("BUST_PARAM") or "_"

init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

request = function()
  counter = counter + 1
  local sep = wrk.path:find("?", 1, true) and "&" or "?"
  return wrk.format("GET", wrk.path .. sep .. param .. "=" .. counter .. "-" .. math.random(1, 2147483647))
end
