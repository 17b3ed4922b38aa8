"""What of donations a need's public page shows touches its page version (needs 0011,
needs.caching.need_version): its pledges (any change: status, quantity, a pledge moved to another
need), the public names and vetting of their collaborators, their deliveries, the OPDs named on
them, and what the recipients said of each (receipts). Statement-level triggers: one touch of each
need per statement, however many rows it wrote."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION donations_touch_by_pledge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM needs_touch(ARRAY(SELECT DISTINCT need_id::bigint FROM new_rows));
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM needs_touch(ARRAY(SELECT DISTINCT need_id::bigint FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER donations_pledge_inserted_page_version AFTER INSERT ON donations_pledge
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION donations_touch_by_pledge();
CREATE TRIGGER donations_pledge_updated_page_version AFTER UPDATE ON donations_pledge
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION donations_touch_by_pledge();
CREATE TRIGGER donations_pledge_deleted_page_version AFTER DELETE ON donations_pledge
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION donations_touch_by_pledge();

CREATE FUNCTION donations_touch_by_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM needs_touch(ARRAY(
            SELECT DISTINCT p.need_id FROM donations_pledge p
            WHERE p.id IN (SELECT pledge_id FROM new_rows)));
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM needs_touch(ARRAY(
            SELECT DISTINCT p.need_id FROM donations_pledge p
            WHERE p.id IN (SELECT pledge_id FROM old_rows)));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER donations_delivery_inserted_page_version AFTER INSERT ON donations_delivery
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION donations_touch_by_delivery();
CREATE TRIGGER donations_delivery_updated_page_version AFTER UPDATE ON donations_delivery
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION donations_touch_by_delivery();
CREATE TRIGGER donations_delivery_deleted_page_version AFTER DELETE ON donations_delivery
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION donations_touch_by_delivery();

CREATE FUNCTION donations_touch_by_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM needs_touch(ARRAY(
            SELECT DISTINCT p.need_id FROM donations_pledge p
            JOIN donations_delivery d ON d.pledge_id = p.id
            WHERE d.id IN (SELECT delivery_id FROM new_rows)));
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM needs_touch(ARRAY(
            SELECT DISTINCT p.need_id FROM donations_pledge p
            JOIN donations_delivery d ON d.pledge_id = p.id
            WHERE d.id IN (SELECT delivery_id FROM old_rows)));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER donations_receipt_inserted_page_version AFTER INSERT ON donations_receipt
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION donations_touch_by_receipt();
CREATE TRIGGER donations_receipt_updated_page_version AFTER UPDATE ON donations_receipt
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION donations_touch_by_receipt();
CREATE TRIGGER donations_receipt_deleted_page_version AFTER DELETE ON donations_receipt
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION donations_touch_by_receipt();

-- A collaborator's public name, anonymity or vetting (named on the pledges and deliveries).
CREATE FUNCTION donations_touch_by_collaborator() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM needs_touch(ARRAY(
        SELECT DISTINCT p.need_id FROM donations_pledge p
        WHERE p.collaborator_id IN (SELECT id FROM changed)));
    RETURN NULL;
END
$$;
CREATE TRIGGER donations_collaborator_page_version AFTER UPDATE ON donations_collaborator
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION donations_touch_by_collaborator();

-- An OPD's name (named on the deliveries it facilitated).
CREATE FUNCTION donations_touch_by_opd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM needs_touch(ARRAY(
        SELECT DISTINCT p.need_id FROM donations_pledge p
        JOIN donations_delivery d ON d.pledge_id = p.id
        WHERE d.opd_id IN (SELECT id FROM changed)));
    RETURN NULL;
END
$$;
CREATE TRIGGER donations_opd_page_version AFTER UPDATE ON donations_opd
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION donations_touch_by_opd();
"""

BACKWARD = """
DROP TRIGGER donations_opd_page_version ON donations_opd;
DROP TRIGGER donations_collaborator_page_version ON donations_collaborator;
DROP TRIGGER donations_receipt_deleted_page_version ON donations_receipt;
DROP TRIGGER donations_receipt_updated_page_version ON donations_receipt;
DROP TRIGGER donations_receipt_inserted_page_version ON donations_receipt;
DROP TRIGGER donations_delivery_deleted_page_version ON donations_delivery;
DROP TRIGGER donations_delivery_updated_page_version ON donations_delivery;
DROP TRIGGER donations_delivery_inserted_page_version ON donations_delivery;
DROP TRIGGER donations_pledge_deleted_page_version ON donations_pledge;
DROP TRIGGER donations_pledge_updated_page_version ON donations_pledge;
DROP TRIGGER donations_pledge_inserted_page_version ON donations_pledge;
DROP FUNCTION donations_touch_by_opd();
DROP FUNCTION donations_touch_by_collaborator();
DROP FUNCTION donations_touch_by_receipt();
DROP FUNCTION donations_touch_by_delivery();
DROP FUNCTION donations_touch_by_pledge();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0017_erasure_requests"),
        ("needs", "0011_need_page_version"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
