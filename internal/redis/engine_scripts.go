package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua scripts that change an item. Each runs atomically in Redis, and
// every key it touches carries the item's hash tag, so a Redis Cluster
// routes the whole script to one shard.
//
// Keys of an item (see Engine.keys): 1 stock, 2 cust, 3 keys, 4 pending,
// 5 admits.
//   - stock:   units left to admit; its presence means "primed"
//   - cust:    customer → units held or bought
//   - keys:    idempotency key → "" while pending, the order id once durable
//   - pending: order id → id of its entry in admits
//   - admits:  a stream with one entry per admission not yet confirmed
//     (order, shop, customer, qty, key, at): what the reconciler settles
//     after a crash between admission and the database write.

// admitScript admits one attempt. ARGV: customer, qty, limit, key, order,
// shop, at (unix ms). It answers {status, order, stock}: "ok" (stock is
// what is left), "replay" (order is the first order), "busy", "soldout"
// (stock is what is left), "limit", "unknown". An order id already pending
// is answered "ok" again without taking anything, so a client retry after
// a lost reply cannot take units twice.
var admitScript = goredis.NewScript(`
local stock = redis.call('GET', KEYS[1])
if not stock then return {'unknown', '', 0} end
stock = tonumber(stock)
local order = ARGV[5]
if redis.call('HEXISTS', KEYS[4], order) == 1 then return {'ok', '', stock} end
local key = ARGV[4]
if key ~= '' then
  local first = redis.call('HGET', KEYS[3], key)
  if first then
    if first == '' then return {'busy', '', stock} end
    return {'replay', first, stock}
  end
end
local qty = tonumber(ARGV[2])
if stock < qty then return {'soldout', '', stock} end
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if held + qty > tonumber(ARGV[3]) then return {'limit', '', stock} end
stock = redis.call('DECRBY', KEYS[1], qty)
redis.call('HINCRBY', KEYS[2], ARGV[1], qty)
if key ~= '' then redis.call('HSET', KEYS[3], key, '') end
local id = redis.call('XADD', KEYS[5], '*', 'order', order, 'shop', ARGV[6], 'customer', ARGV[1], 'qty', ARGV[2], 'key', key, 'at', ARGV[7])
redis.call('HSET', KEYS[4], order, id)
return {'ok', '', stock}
`)

// confirmScript records that an order is durable: its key answers replays
// with it, and its admission leaves the stream. ARGV: order, key. It
// answers 0 when the item is not primed.
var confirmScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[3], ARGV[2], ARGV[1]) end
local id = redis.call('HGET', KEYS[4], ARGV[1])
if id then
  redis.call('XDEL', KEYS[5], id)
  redis.call('HDEL', KEYS[4], ARGV[1])
end
return 1
`)

// abortScript gives back a pending admission whose order was not written,
// as its stream entry recorded it. ARGV: order. It answers 1 when units
// went back, 0 when the order was not pending (never admitted, already
// confirmed or given back): aborting twice gives back once.
var abortScript = goredis.NewScript(`
local id = redis.call('HGET', KEYS[4], ARGV[1])
if not id then return 0 end
redis.call('HDEL', KEYS[4], ARGV[1])
local e = redis.call('XRANGE', KEYS[5], id, id)
redis.call('XDEL', KEYS[5], id)
if #e == 0 or redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local f = {}
local kv = e[1][2]
for i = 1, #kv, 2 do f[kv[i]] = kv[i + 1] end
local qty = tonumber(f['qty'])
redis.call('INCRBY', KEYS[1], qty)
if redis.call('HINCRBY', KEYS[2], f['customer'], -qty) <= 0 then redis.call('HDEL', KEYS[2], f['customer']) end
if f['key'] ~= '' and redis.call('HGET', KEYS[3], f['key']) == '' then redis.call('HDEL', KEYS[3], f['key']) end
return 1
`)

// returnScript gives back units of a durable reservation that was
// released. KEYS: stock, cust. ARGV: customer, qty. It answers 0 when the
// item is not primed (its sale ended: the units went back to the SKU).
var returnScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local qty = tonumber(ARGV[2])
redis.call('INCRBY', KEYS[1], qty)
if redis.call('HINCRBY', KEYS[2], ARGV[1], -qty) <= 0 then redis.call('HDEL', KEYS[2], ARGV[1]) end
return 1
`)

// primeScript sets an item's state. ARGV: mode ("absent" leaves an item
// Redis already has alone; "reset" replaces it), remaining, the number of
// customers n, n customer/units pairs, then key/order pairs. It answers 1
// when it wrote the state.
var primeScript = goredis.NewScript(`
if ARGV[1] == 'absent' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('SET', KEYS[1], ARGV[2])
local n = tonumber(ARGV[3])
local i = 4
for _ = 1, n do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i < #ARGV do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  i = i + 2
end
return 1
`)
