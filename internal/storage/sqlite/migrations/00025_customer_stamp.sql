-- +goose Up
-- A customer's change stamp: every change to the customer's row (points
-- held, released, refunded or adjusted, the first payment, tier, tags,
-- erasure) and to their coupons (claimed, locked by an order, used,
-- released) raises it in the same transaction, by the triggers below. A
-- quote reads only the stamp to know whether the customer and the wallet it
-- cached, on any node, are still what the database holds.
ALTER TABLE customers ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE TRIGGER customers_rev AFTER UPDATE ON customers FOR EACH ROW WHEN NEW.rev = OLD.rev
BEGIN
    UPDATE customers SET rev = OLD.rev + 1 WHERE id = OLD.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER coupons_claimed_rev AFTER INSERT ON coupons FOR EACH ROW
BEGIN
    UPDATE customers SET rev = rev + 1 WHERE shop_id = NEW.shop_id AND id = NEW.customer_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER coupons_changed_rev AFTER UPDATE ON coupons FOR EACH ROW
BEGIN
    UPDATE customers SET rev = rev + 1 WHERE shop_id = NEW.shop_id AND id = NEW.customer_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER coupons_changed_rev;
DROP TRIGGER coupons_claimed_rev;
DROP TRIGGER customers_rev;
ALTER TABLE customers DROP COLUMN rev;
