//! Round trips through the real binary against the machine's PostgreSQL and
//! MariaDB: real data backed up, restored into a new database, and compared
//! (schema and rows), plus the errors a user meets with database sources.

use crate::common::*;

const PG_FIXTURE: &str = r#"
CREATE SCHEMA billing;
CREATE SEQUENCE billing.invoice_no START 1000 INCREMENT 7;
CREATE TABLE public.customers (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    tags text[] NOT NULL DEFAULT '{}',
    profile jsonb,
    avatar bytea,
    joined timestamptz NOT NULL
);
CREATE INDEX customers_name ON public.customers (lower(name));
CREATE TABLE billing.invoices (
    no integer PRIMARY KEY DEFAULT nextval('billing.invoice_no'),
    customer_id bigint REFERENCES public.customers (id),
    amount numeric(12, 2) NOT NULL,
    lines json,
    issued timestamptz NOT NULL DEFAULT '2026-01-02 03:04:05+01'
);
CREATE INDEX invoices_customer ON billing.invoices (customer_id) WHERE amount > 0;
CREATE VIEW billing.totals AS
    SELECT c.name, sum(i.amount) AS total FROM public.customers c JOIN billing.invoices i ON i.customer_id = c.id GROUP BY c.name;
INSERT INTO public.customers (name, tags, profile, avatar, joined)
    SELECT 'customer ' || g || ' ünïcødé ✓',
           ARRAY['t' || (g % 5), 'quote''s', NULL],
           jsonb_build_object('n', g, 'nested', jsonb_build_object('ok', g % 2 = 0)),
           decode(md5(g::text), 'hex') || '\x00ff'::bytea,
           timestamptz '2020-02-29 12:00:00+00' + g * interval '1 hour 7 minutes'
    FROM generate_series(1, 2000) g;
INSERT INTO billing.invoices (customer_id, amount, lines)
    SELECT 1 + (g % 2000), (g * 13.37)::numeric(12,2), json_build_array(g, 'x', null)
    FROM generate_series(1, 3000) g;
"#;

/// Every table's rows as one digest, plus sequence positions: equal digests mean
/// equal contents.
const PG_CONTENT: &str = "SELECT concat_ws(' | ',
    (SELECT count(*) || ':' || md5(string_agg(c::text, ',' ORDER BY id)) FROM public.customers c),
    (SELECT count(*) || ':' || md5(string_agg(i::text, ',' ORDER BY no)) FROM billing.invoices i),
    (SELECT md5(string_agg(t::text, ',' ORDER BY name)) FROM billing.totals t),
    (SELECT last_value FROM billing.invoice_no),
    (SELECT last_value FROM public.customers_id_seq))";

/// The schema as pg_dump prints it, minus the lines that differ between any two
/// dumps (the random \restrict key of recent clients).
fn pg_schema(db: &str) -> String {
    let url = url::Url::parse(&pg_admin_url()).unwrap();
    let out = std::process::Command::new("pg_dump")
        .args(["--schema-only", "--no-owner", "-h"])
        .arg(url.host_str().unwrap())
        .arg("-p")
        .arg(url.port().unwrap_or(5432).to_string())
        .args(["-U", "postgres", "-d", db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn postgres_round_trip_keeps_schema_and_rows() {
    let src = PgDb::create("sauve_src");
    psql(&src.0, PG_FIXTURE);
    let sauve = Sauve::new();
    let dest = sauve.dest("backups");
    sauve.create_job("app-db", &pg_url(&src.0), &[dest.to_str().unwrap()]);
    let id = sauve.backup("app-db");

    // The artifact is a plain zstd stream of a pg_dump custom archive.
    let artifact = sauve.artifact_path(&id);
    let head = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("zstd -dc '{}' | head -c 5", artifact.display()))
        .output()
        .unwrap();
    assert_eq!(head.stdout, b"PGDMP");

    sauve.run(&["verify", &id]).ok();
    let restored = PgDb::reserve("sauve_dst");
    let out = sauve
        .run(&["restore", &id, "--to", &pg_url(&restored.0)])
        .ok();
    assert!(out.stdout().contains("restored backup"), "{}", out.stdout());

    assert_eq!(psql(&restored.0, PG_CONTENT), psql(&src.0, PG_CONTENT));
    assert_eq!(pg_schema(&restored.0), pg_schema(&src.0));
    assert_eq!(
        psql(&restored.0, "SELECT nextval('billing.invoice_no')"),
        psql(&src.0, "SELECT nextval('billing.invoice_no')")
    );

    // A second restore into the now non-empty target is refused, then forced.
    sauve
        .run(&["restore", &id, "--to", &pg_url(&restored.0)])
        .fails(2, &["not empty", "--force"]);
    psql(&restored.0, "DELETE FROM billing.invoices WHERE no % 2 = 0");
    sauve
        .run(&["restore", &id, "--to", &pg_url(&restored.0), "--force"])
        .ok();
    assert_eq!(
        psql(&restored.0, PG_CONTENT).split(" | ").nth(1),
        psql(&src.0, PG_CONTENT).split(" | ").nth(1)
    );

    // The run recorded what the dump tool and the manifest say about the server.
    let runs = sauve
        .run(&["run", "list", "--job", "app-db", "--json"])
        .ok()
        .json();
    let backup_run = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["trigger"] == "manual")
        .unwrap();
    assert_eq!(backup_run["state"], "succeeded");
    assert!(backup_run["bytes_in"].as_i64().unwrap() > backup_run["bytes_out"].as_i64().unwrap());
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(format!("{}.manifest.json", artifact.display())).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["source"]["kind"], "postgres");
    assert!(
        manifest["source"]["tool"]
            .as_str()
            .unwrap()
            .contains("pg_dump")
    );
    assert!(
        !manifest["source"]["server_version"]
            .as_str()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn corrupted_postgres_backup_is_refused_before_the_target_is_created() {
    let src = PgDb::create("sauve_src");
    psql(
        &src.0,
        "CREATE TABLE t (id int primary key, v text); INSERT INTO t SELECT g, repeat('x', g % 100) FROM generate_series(1, 5000) g;",
    );
    let sauve = Sauve::new();
    let dest = sauve.dest("backups");
    sauve.create_job("pg", &pg_url(&src.0), &[dest.to_str().unwrap()]);
    let id = sauve.backup("pg");
    flip_byte(&sauve.artifact_path(&id));
    sauve
        .run(&["verify", &id])
        .fails(1, &["corrupted", "sha256"]);
    let target = PgDb::reserve("sauve_never");
    sauve
        .run(&["restore", &id, "--to", &pg_url(&target.0)])
        .fails(1, &["corrupted", "Nothing was restored"]);
    let exists = psql(
        "postgres",
        &format!(
            "SELECT count(*) FROM pg_database WHERE datname = '{}'",
            target.0
        ),
    );
    assert_eq!(
        exists, "0",
        "the target database must not have been created"
    );
}

#[test]
fn postgres_errors_say_what_to_do() {
    let sauve = Sauve::new();
    let dest = sauve.dest("b");
    let d = dest.to_str().unwrap();
    sauve.create_job("down", "postgres://postgres@127.0.0.1:1/x", &[d]);
    sauve
        .run(&["backup", "run", "down"])
        .fails(1, &["cannot reach the PostgreSQL server at 127.0.0.1:1"]);

    sauve.create_job("nodb", &pg_url("sauve_no_such_db"), &[d]);
    sauve
        .run(&["backup", "run", "nodb"])
        .fails(1, &["database \"sauve_no_such_db\" does not exist"]);

    // pg_dump missing from PATH: say which package provides it.
    let mut no_tools = Sauve::new();
    no_tools.env.push(("PATH".into(), "/nonexistent".into()));
    no_tools.create_job("x", &pg_url("postgres"), &[d]);
    no_tools.run(&["backup", "run", "x"]).fails(
        1,
        &[
            "pg_dump was not found in PATH",
            "apt-get install postgresql-client",
        ],
    );

    // A password in the URI is refused before anything is stored.
    sauve
        .run(&[
            "job",
            "create",
            "pw",
            "--source",
            "postgres://u:hunter2@127.0.0.1/db",
            "--dest",
            d,
        ])
        .fails(2, &["password=secret:NAME"]);
    assert!(!sauve.run(&["job", "list"]).ok().stdout().contains("pw "));
    // Failed runs are recorded with their error.
    let runs = sauve
        .run(&["run", "list", "--job", "down", "--json"])
        .ok()
        .json();
    assert_eq!(runs[0]["state"], "failed");
    assert!(runs[0]["error"].as_str().unwrap().contains("cannot reach"));
}

const MY_FIXTURE: &str = r#"
CREATE TABLE customers (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    profile JSON,
    avatar BLOB,
    balance DECIMAL(12, 2) NOT NULL DEFAULT 0,
    joined DATETIME(6) NOT NULL,
    KEY customers_name (name)
) ENGINE=InnoDB;
CREATE TABLE audit (id BIGINT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(100)) ENGINE=InnoDB;
CREATE TRIGGER customers_audit AFTER INSERT ON customers FOR EACH ROW INSERT INTO audit (what) VALUES (CONCAT('new ', NEW.id));
CREATE VIEW rich AS SELECT name, balance FROM customers WHERE balance > 100;
CREATE PROCEDURE bump(IN delta INT) UPDATE customers SET balance = balance + delta;
INSERT INTO customers (name, profile, avatar, balance, joined)
    SELECT CONCAT('customer ', seq, ' ünïcødé ✓ 😀'), JSON_OBJECT('n', seq, 'ok', seq % 2 = 0),
           UNHEX(MD5(seq)), seq * 1.5, TIMESTAMP('2024-02-29 12:00:00.123456') + INTERVAL seq MINUTE
    FROM seq_1_to_1500;
"#;

fn my_content(db: &str) -> String {
    let checksums = mysql(Some(db), "CHECKSUM TABLE customers, audit EXTENDED");
    let checksums: Vec<_> = checksums
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap_or("").to_string())
        .collect();
    let view = mysql(Some(db), "SELECT COUNT(*), SUM(balance) FROM rich");
    let objects = mysql(
        None,
        &format!(
            "SELECT GROUP_CONCAT(x ORDER BY x) FROM (
                SELECT CONCAT('trigger:', trigger_name) x FROM information_schema.triggers WHERE trigger_schema = '{db}'
                UNION ALL SELECT CONCAT('routine:', routine_name) FROM information_schema.routines WHERE routine_schema = '{db}'
                UNION ALL SELECT CONCAT('view:', table_name) FROM information_schema.views WHERE table_schema = '{db}'
                UNION ALL SELECT CONCAT('index:', table_name, '.', index_name) FROM information_schema.statistics WHERE table_schema = '{db}'
            ) o"
        ),
    );
    let auto = mysql(
        None,
        &format!(
            "SELECT AUTO_INCREMENT FROM information_schema.tables WHERE table_schema = '{db}' AND table_name = 'customers'"
        ),
    );
    format!("{checksums:?} {view} {objects} {auto}")
}

#[test]
fn mariadb_round_trip_keeps_schema_and_rows() {
    let src = MyDb::create("sauve_src");
    mysql(Some(&src.0), MY_FIXTURE);
    let sauve = Sauve::new();
    let dest = sauve.dest("backups");
    sauve.create_job("shop", &mysql_url(&src.0), &[dest.to_str().unwrap()]);
    let id = sauve.backup("shop");
    sauve.run(&["verify", &id]).ok();
    let restored = MyDb::reserve("sauve_dst");
    sauve
        .run(&["restore", &id, "--to", &mysql_url(&restored.0)])
        .ok();
    let want = my_content(&src.0);
    assert!(
        want.contains("trigger:customers_audit") && want.contains("routine:bump"),
        "{want}"
    );
    assert_eq!(my_content(&restored.0), want);
    // The trigger works in the restored database, and the auto-increment carried
    // over: the same insert on both sides gives the same audit row.
    let last_audit = |db: &str| {
        mysql(
            Some(db),
            "INSERT INTO customers (name, joined) VALUES ('after', NOW())",
        );
        mysql(Some(db), "SELECT what FROM audit ORDER BY id DESC LIMIT 1")
    };
    let want = last_audit(&src.0);
    assert!(want.starts_with("new "), "{want}");
    assert_eq!(last_audit(&restored.0), want);
    sauve
        .run(&["restore", &id, "--to", &mysql_url(&restored.0)])
        .fails(2, &["not empty", "--force"]);
}

#[test]
fn mariadb_wrong_password_is_reported_as_such() {
    let user = unique("sauve_u");
    mysql(
        None,
        &format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'right-password'"),
    );
    let db = MyDb::create("sauve_pw");
    mysql(None, &format!("GRANT ALL ON `{}`.* TO '{user}'@'%'", db.0));
    let mut sauve = Sauve::new();
    let dest = sauve.dest("b");
    let mut url = url::Url::parse(&mysql_url(&db.0)).unwrap();
    url.set_username(&user).unwrap();
    url.set_query(Some("password_env=SHOP_DB_PASSWORD"));
    sauve.create_job("shop", url.as_str(), &[dest.to_str().unwrap()]);

    sauve
        .run(&["backup", "run", "shop"])
        // A variable the job names and nobody set: the job's to fix, like a
        // missing passphrase.
        .fails(2, &["SHOP_DB_PASSWORD", "is not set"]);
    sauve
        .env
        .push(("SHOP_DB_PASSWORD".into(), "wrong-password".into()));
    let r = sauve
        .run(&["backup", "run", "shop"])
        .fails(1, &["refused user", &user]);
    assert!(
        !r.stderr().contains("wrong-password"),
        "the password leaked into the message"
    );
    sauve.env.pop();
    sauve
        .env
        .push(("SHOP_DB_PASSWORD".into(), "right-password".into()));
    sauve.backup("shop");
    let log = sauve.run(&["run", "list", "--json"]).ok().stdout();
    assert!(!log.contains("right-password") && !log.contains("wrong-password"));
    mysql(None, &format!("DROP USER '{user}'@'%'"));
}
