"""A need's page version (needs.caching.need_version): a number the database gives a need anew
whenever anything its public page or popup shows changes, so that the page cache can tell whether
its copy is still right with one index probe instead of a digest over seven tables.

The numbers are appended to `needs_page_touch` (need, version): the version of a need is the
largest there. Appending never waits on a lock (the table has no foreign key and no unique
constraint), so a trigger can never make a pledge wait on, or deadlock with, a staff member's edit
of a collaborator or a site; the worker prunes all but each need's last row
(needs.tasks.prune_page_touches). The table belongs to the database's triggers alone: no model,
form, serializer, export or history carries it.

A need is touched:
- when it is created or its row changes (pledges change its counters, staff its fields);
- when its site, the code, name or parent of its kelurahan, kecamatan or kota, its aid type or that
  aid type's category change (triggers on those tables, below);
- by what the apps above add: donations' pledges, collaborators, deliveries, receipts and OPDs
  (donations 0018), through `needs_touch(ids)`.
Statement-level triggers with transition tables: an import or a benchmark's seeding of thousands of
rows touches each need once per statement, not once per row.
"""

from django.db import migrations

FORWARD = """
CREATE SEQUENCE needs_page_version_seq;
CREATE TABLE needs_page_touch (
    need_id bigint NOT NULL,
    version bigint NOT NULL DEFAULT nextval('needs_page_version_seq')
);
CREATE INDEX needs_page_touch_need ON needs_page_touch (need_id, version);
INSERT INTO needs_page_touch (need_id) SELECT id FROM needs_need;

CREATE FUNCTION needs_touch(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO needs_page_touch (need_id) SELECT DISTINCT unnest(ids)
$$;

CREATE FUNCTION needs_touch_by_new_need() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM needs_touch(ARRAY(SELECT id FROM changed));
    RETURN NULL;
END
$$;
CREATE TRIGGER needs_need_inserted_page_version AFTER INSERT ON needs_need
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION needs_touch_by_new_need();

-- Only the rows an UPDATE really changed: a job that writes a value a row already holds leaves
-- every copy of its page valid.
CREATE FUNCTION needs_touch_by_need() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM needs_touch(ARRAY(
        SELECT after.id FROM new_needs after JOIN old_needs before ON before.id = after.id
        WHERE before IS DISTINCT FROM after));
    RETURN NULL;
END
$$;
CREATE TRIGGER needs_need_updated_page_version AFTER UPDATE ON needs_need
    REFERENCING OLD TABLE AS old_needs NEW TABLE AS new_needs
    FOR EACH STATEMENT EXECUTE FUNCTION needs_touch_by_need();

CREATE FUNCTION needs_touch_by_site() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM needs_touch(ARRAY(
        SELECT n.id FROM needs_need n WHERE n.site_id IN (SELECT id FROM changed)));
    RETURN NULL;
END
$$;
CREATE TRIGGER needs_site_page_version AFTER UPDATE ON locations_site
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION needs_touch_by_site();

-- Only a code, name or parent the page shows, not a boundary loaded again.
CREATE FUNCTION needs_touch_by_region() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM needs_touch(ARRAY(
        WITH renamed AS (
            SELECT after.id
            FROM new_regions after JOIN old_regions before ON before.id = after.id
            WHERE (before.code, before.name, before.parent_id)
                  IS DISTINCT FROM (after.code, after.name, after.parent_id))
        SELECT n.id
        FROM needs_need n
        JOIN locations_site s ON s.id = n.site_id
        JOIN locations_region k ON k.id = s.kelurahan_id
        LEFT JOIN locations_region d ON d.id = k.parent_id
        WHERE k.id IN (SELECT id FROM renamed)
           OR k.parent_id IN (SELECT id FROM renamed)
           OR d.parent_id IN (SELECT id FROM renamed)));
    RETURN NULL;
END
$$;
CREATE TRIGGER needs_region_page_version AFTER UPDATE ON locations_region
    REFERENCING OLD TABLE AS old_regions NEW TABLE AS new_regions
    FOR EACH STATEMENT EXECUTE FUNCTION needs_touch_by_region();

CREATE FUNCTION needs_touch_by_aid_type() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM needs_touch(ARRAY(
        SELECT n.id FROM needs_need n WHERE n.aid_type_id IN (SELECT id FROM changed)));
    RETURN NULL;
END
$$;
CREATE TRIGGER needs_aid_type_page_version AFTER UPDATE ON needs_aidtype
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION needs_touch_by_aid_type();

CREATE FUNCTION needs_touch_by_category() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM needs_touch(ARRAY(
        SELECT n.id FROM needs_need n
        JOIN needs_aidtype a ON a.id = n.aid_type_id
        WHERE a.category_id IN (SELECT id FROM changed)));
    RETURN NULL;
END
$$;
CREATE TRIGGER needs_category_page_version AFTER UPDATE ON needs_category
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION needs_touch_by_category();
"""

BACKWARD = """
DROP TRIGGER needs_category_page_version ON needs_category;
DROP TRIGGER needs_aid_type_page_version ON needs_aidtype;
DROP TRIGGER needs_region_page_version ON locations_region;
DROP TRIGGER needs_site_page_version ON locations_site;
DROP TRIGGER needs_need_updated_page_version ON needs_need;
DROP TRIGGER needs_need_inserted_page_version ON needs_need;
DROP FUNCTION needs_touch_by_category();
DROP FUNCTION needs_touch_by_aid_type();
DROP FUNCTION needs_touch_by_region();
DROP FUNCTION needs_touch_by_site();
DROP FUNCTION needs_touch_by_need();
DROP FUNCTION needs_touch_by_new_need();
DROP FUNCTION needs_touch(bigint[]);
DROP TABLE needs_page_touch;
DROP SEQUENCE needs_page_version_seq;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("needs", "0010_category_vetting_thresholds"),
        ("locations", "0005_rw_areas"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
