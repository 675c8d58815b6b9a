-- POST /checkout, each request with its own cart from CARTS_FILE and its own
-- Idempotency-Key. The wrk threads take interleaved carts; once the file runs
-- out, carts come round again and answer 409 cart_already_checked_out, which
-- wrk counts as non-2xx (never as a replayed 201). Every checkout is a
-- different shopper: its own email (bench-<phase>+<cart>@example.com, so
-- scripts/bench can count the orders of the measured phase in the database)
-- and its own address, so the per-client limits and caps run but never trip.
local counter = 1
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  carts = {}
  for line in io.lines(os.getenv("CARTS_FILE")) do carts[#carts + 1] = line end
  stride = tonumber(os.getenv("WRK_THREADS") or "2")
  phase = os.getenv("BENCH_PHASE") or "measure"
  counter = id
  math.randomseed(os.time() + id)
end

request = function()
  local cart = carts[((counter - 1) % #carts) + 1]
  counter = counter + stride
  local body = '{"cart_id":"' .. cart .. '","email":"bench-' .. phase .. '+' .. cart .. '@example.com",' ..
    '"shipping_address":{"name":"Bench","line1":"1 Main St","city":"San Francisco",' ..
    '"state":"CA","postal_code":"94110","country":"US"},' ..
    '"region":"US-CA","date_of_birth":"1980-01-01","delivery":"asap"}'
  return wrk.format("POST", "/checkout",
    { ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = "bench-" .. cart .. "-" .. counter .. "-" .. id,
      ["CF-Connecting-IP"] = "198.19." .. math.random(0, 255) .. "." .. math.random(0, 255) },
    body)
end
