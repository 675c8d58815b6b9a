-- POST /cart/{id}/items {sku, quantity: 1}: a random cart of CARTS_FILE and a
-- random SKU of SKUS (comma-separated), so adds land on many carts and lines.
local carts, skus = {}, {}
for line in io.lines(os.getenv("CARTS_FILE")) do carts[#carts + 1] = line end
for sku in string.gmatch(os.getenv("SKUS"), "[^,]+") do skus[#skus + 1] = sku end
math.randomseed(os.time())

request = function()
  local cart = carts[math.random(#carts)]
  local sku = skus[math.random(#skus)]
  return wrk.format("POST", "/cart/" .. cart .. "/items",
    { ["Content-Type"] = "application/json" },
    '{"sku":"' .. sku .. '","quantity":1}')
end
