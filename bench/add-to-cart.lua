-- POST /cart/{id}/items {sku, quantity: 1}: a random cart of CARTS_FILE and a
-- random SKU of SKUS (comma-separated), so adds land on many carts and lines.
-- Each request comes from a random shopper address (198.18.0.0/16): the
-- edge's per-client rate limit runs as it would for many shoppers.
local carts, skus = {}, {}
for line in io.lines(os.getenv("CARTS_FILE")) do carts[#carts + 1] = line end
for sku in string.gmatch(os.getenv("SKUS"), "[^,]+") do skus[#skus + 1] = sku end
math.randomseed(os.time())

request = function()
  local cart = carts[math.random(#carts)]
  local sku = skus[math.random(#skus)]
  return wrk.format("POST", "/cart/" .. cart .. "/items",
    { ["Content-Type"] = "application/json",
      ["CF-Connecting-IP"] = "198.18." .. math.random(0, 255) .. "." .. math.random(0, 255) },
    '{"sku":"' .. sku .. '","quantity":1}')
end
