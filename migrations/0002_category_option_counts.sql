-- Facet counts for the catalog's most common lists (everything, or one
-- category subtree), kept exact by a trigger so that those lists read a few
-- hundred summary rows instead of unpacking every product's options.
-- Lists with other filters (search, price, stock, options) still count from
-- products directly.

CREATE TABLE category_option_counts (
    category_id  bigint NOT NULL REFERENCES categories (id),
    option_value text NOT NULL,           -- as in products.option_values: 'color=red'
    products     int NOT NULL CHECK (products >= 0),
    PRIMARY KEY (category_id, option_value)
);

-- A product counts once it is sellable (it has variants, hence a price).
CREATE FUNCTION products_count_options() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.price_min IS NOT NULL THEN
        UPDATE category_option_counts c
           SET products = c.products - 1
         WHERE c.category_id = OLD.category_id AND c.option_value = ANY (OLD.option_values);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.price_min IS NOT NULL THEN
        INSERT INTO category_option_counts (category_id, option_value, products)
        SELECT NEW.category_id, ov, 1 FROM unnest(NEW.option_values) AS ov
            ON CONFLICT (category_id, option_value)
            DO UPDATE SET products = category_option_counts.products + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER products_count_options
    AFTER INSERT OR DELETE OR UPDATE OF category_id, option_values, price_min ON products
    FOR EACH ROW EXECUTE FUNCTION products_count_options();

INSERT INTO category_option_counts (category_id, option_value, products)
SELECT p.category_id, ov, count(*)
  FROM products p CROSS JOIN LATERAL unnest(p.option_values) AS ov
 WHERE p.price_min IS NOT NULL
 GROUP BY 1, 2;
