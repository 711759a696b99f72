// Package pricing is Carnival's promotion engine: given a cart, the shop's
// promotions, the customer's coupons and points, and the time, it prices the
// cart by the contract in docs PRICING.md and explains every decision.
//
// It owns the pricing rules and nothing else: no I/O, no clock (the caller
// passes Now), no package-level mutable state, no map iteration that could
// reach the output. Storage, holds and HTTP live elsewhere; they call Quote
// with what they loaded and take holds on what Result.Applied reports.
//
// The five stages of a quote and the trade names used here:
//
//  1. Unit price, one winner per unit: LimitedTime (限时折扣), MemberPrice
//     (会员价), QuantityLadder (阶梯价) and the flash-sale price (秒杀).
//  2. Order-level activities (店铺活动), cascading in priority order:
//     ThresholdOff (满减, tiers or 每满 repeat), ThresholdPercent (满折),
//     NthItem (第N件M折), BuyXGetY (买X送Y), Gift (满赠), FreeShipping (包邮).
//  3. Coupons (优惠券): threshold-off / cash, percent, shipping, with stack
//     groups and an exact best-combination search.
//  4. Points (积分抵现).
//  5. Shipping (运费).
//
// Every order-level, coupon and points discount is split over its eligible
// lines by Apportion (分摊): largest remainder, ties to the earlier line.
//
// For saving promotions the package also offers Validate, ValidateTemplate,
// Conflicts and the margin guard (破价保护) WorstCase / BelowFloor.
package pricing
