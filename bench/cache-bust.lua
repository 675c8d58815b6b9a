-- wrk script: every request gets a fresh `_` parameter, which the catalog
-- ignores but the edge cache keys on, so each request misses every cache tier
-- and reaches the catalog function and PostgreSQL.
-- Usage: wrk -s bench/cache-bust.lua URL  (the URL's path and query are kept)
local counter = 0
local base_path

init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

request = function()
  counter = counter + 1
  base_path = base_path or wrk.path
  local sep = base_path:find("?", 1, true) and "&" or "?"
  return wrk.format("GET", base_path .. sep .. "_=" .. counter .. "-" .. math.random(1, 2147483647))
end
