-- +goose Up
-- A customer's change stamp: every change to the customer's row (points
-- held, released, refunded or adjusted, the first payment, tier, tags,
-- erasure) and to their coupons (claimed, locked by an order, used,
-- released) raises it in the same transaction, by the triggers below. A
-- quote reads only the stamp to know whether the customer and the wallet it
-- cached, on any node, are still what the database holds.
ALTER TABLE customers ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE FUNCTION customers_rev() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.rev := OLD.rev + 1;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER customers_rev BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION customers_rev();

-- +goose StatementBegin
CREATE FUNCTION coupons_rev() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customers SET rev = rev + 1 WHERE shop_id = NEW.shop_id AND id = NEW.customer_id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER coupons_rev AFTER INSERT OR UPDATE ON coupons FOR EACH ROW EXECUTE FUNCTION coupons_rev();

-- +goose Down
DROP TRIGGER coupons_rev ON coupons;
DROP FUNCTION coupons_rev();
DROP TRIGGER customers_rev ON customers;
DROP FUNCTION customers_rev();
ALTER TABLE customers DROP COLUMN rev;
