-- wrk script: every request gets a fresh value of a cache-busting parameter.
--   BUST_PARAM=_          (default) the edge's cache-buster, dev builds only:
--                         it bypasses the edge cache, so each request reaches
--                         the catalog function and PostgreSQL ("caching off").
--   BUST_PARAM=max_price  a price ceiling above every price, new each time: a
--                         real parameter, so the edge keys on it and each
--                         request misses every tier and then fills them (the
--                         full miss path) with the same products. (Ignored
--                         parameters such as `_x` no longer make new keys.)
-- Usage: [BUST_PARAM=...] wrk -s bench/cache-bust.lua URL
local counter = 0
local param = os.getenv("BUST_PARAM") or "_"

init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

request = function()
  counter = counter + 1
  local sep = wrk.path:find("?", 1, true) and "&" or "?"
  local value
  if param == "max_price" then
    -- 1,000,000.00 to 9,999,999.99: above any price, a new key almost always.
    value = math.random(1000000, 9999999) .. "." .. string.format("%02d", math.random(0, 99))
  else
    value = counter .. "-" .. math.random(1, 2147483647)
  end
  return wrk.format("GET", wrk.path .. sep .. param .. "=" .. value)
end
