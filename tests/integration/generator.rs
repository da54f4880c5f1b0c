//! The generator: deterministic for a seed, consistent with its ground truth, messy on purpose.

use c360::generate::person::{CUTOFF, DAY};
use c360::generate::{GenerateOptions, generate, next_day};
use datafusion::prelude::{ParquetReadOptions, SessionContext};

use super::common::scalar;

fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .expect("prefix")
                    .display()
                    .to_string();
                out.push((name, std::fs::read(&path).expect("read")));
            }
        }
    }
    out.sort();
    out
}

fn options(dir: &std::path::Path, seed: u64) -> GenerateOptions {
    GenerateOptions {
        customers: 400,
        seed,
        out: dir.to_path_buf(),
    }
}

#[test]
fn same_seed_same_files_other_seed_other_files() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    generate(&options(a.path(), 7)).expect("generate");
    generate(&options(b.path(), 7)).expect("generate");
    generate(&options(c.path(), 8)).expect("generate");
    let (fa, fb, fc) = (files(a.path()), files(b.path()), files(c.path()));
    assert!(fa.len() >= 13, "{} files", fa.len());
    assert_eq!(fa, fb, "the same seed must give byte-identical files");
    assert_ne!(fa, fc, "another seed must give other data");
}

async fn value(ctx: &SessionContext, sql: &str) -> i64 {
    scalar(ctx, sql).await.parse().expect("an integer")
}

#[tokio::test]
async fn truth_covers_every_record_and_the_data_is_messy() {
    let dir = tempfile::tempdir().unwrap();
    generate(&GenerateOptions {
        customers: 1500,
        seed: 3,
        out: dir.path().to_path_buf(),
    })
    .expect("generate");
    // A day after the cut-off brings new people; their records have their truth too.
    next_day(dir.path()).expect("next day");
    let ctx = SessionContext::new();
    let p = |rel: &str| dir.path().join(rel).display().to_string() + "/";
    ctx.register_parquet(
        "truth",
        p("truth/record_person"),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap();
    ctx.register_parquet("churn", p("truth/churn"), ParquetReadOptions::default())
        .await
        .unwrap();
    ctx.register_parquet(
        "accounts",
        p("shop/accounts"),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap();
    ctx.register_csv("crm", p("crm/contacts"), Default::default())
        .await
        .unwrap();
    // Every CRM contact and shop account has its true person.
    let missing = "SELECT count(*) FROM crm c LEFT JOIN truth t ON t.source = 'crm_contacts' \
                   AND t.record_id = c.contact_id WHERE t.person_id IS NULL";
    assert_eq!(value(&ctx, missing).await, 0);
    let missing = "SELECT count(*) FROM accounts a LEFT JOIN truth t ON t.source = 'shop_accounts' \
                   AND t.record_id = CAST(a.account_id AS VARCHAR) WHERE t.person_id IS NULL";
    assert_eq!(value(&ctx, missing).await, 0);
    // One person in several records of the same system (duplicates, guest accounts).
    let dup = "SELECT count(*) FROM (SELECT person_id FROM truth WHERE source = 'shop_accounts' \
               GROUP BY person_id HAVING count(*) > 1)";
    assert!(value(&ctx, dup).await > 0);
    // Different people share an e-mail (families) and a common full name.
    let shared = "SELECT count(*) FROM (SELECT lower(trim(c.email)) FROM crm c JOIN truth t \
                  ON t.record_id = c.contact_id WHERE c.email IS NOT NULL \
                  GROUP BY lower(trim(c.email)) HAVING count(DISTINCT t.person_id) > 1)";
    assert!(value(&ctx, shared).await > 0);
    let namesakes = "SELECT count(*) FROM (SELECT first_name, last_name FROM crm c JOIN truth t \
                     ON t.record_id = c.contact_id GROUP BY 1, 2 HAVING count(DISTINCT t.person_id) > 1)";
    assert!(value(&ctx, namesakes).await > 0);
    // Mixed case and untrimmed e-mails.
    let messy = "SELECT count(*) FROM crm WHERE email <> lower(trim(email))";
    assert!(value(&ctx, messy).await > 0);
    // Churn after the cut-off happens, but to a minority of the customers alive at the cut-off.
    let churned = value(&ctx, "SELECT count(*) FROM churn WHERE churned_in_horizon").await;
    let alive = value(&ctx, "SELECT count(*) FROM churn WHERE alive_at_cutoff").await;
    assert!(churned > 0 && churned * 4 < alive, "{churned} of {alive}");
}

/// The smallest and largest `event_at` of the web-event files of day `day`, and how many
/// fall before the day began (late arrivals).
fn day_web_events(dir: &std::path::Path, day: u32) -> (i64, i64, usize) {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::TimestampMicrosecondType;
    let day_start = CUTOFF + i64::from(day - 1) * DAY;
    let (mut low, mut high, mut late) = (i64::MAX, i64::MIN, 0);
    for entry in std::fs::read_dir(dir.join("web/events"))
        .expect("read dir")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&format!("day-{day:04}-")) {
            continue;
        }
        let file = std::fs::File::open(entry.path()).expect("open");
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("parquet")
            .build()
            .expect("reader");
        for batch in reader {
            let batch = batch.expect("batch");
            let at = batch
                .column_by_name("event_at")
                .expect("event_at")
                .as_primitive::<TimestampMicrosecondType>();
            for t in at.iter().flatten() {
                low = low.min(t);
                high = high.max(t);
                late += usize::from(t < day_start);
            }
        }
    }
    (low - day_start, high - day_start, late)
}

#[test]
fn the_next_day_continues_the_same_people_deterministically() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let options = |dir: &std::path::Path| GenerateOptions {
        customers: 1500,
        seed: 3,
        out: dir.to_path_buf(),
    };
    generate(&options(a.path())).expect("generate");
    let history = files(a.path());
    for _ in 0..2 {
        assert!(next_day(a.path()).expect("next day").total_rows() > 0);
    }
    generate(&options(b.path())).expect("generate");
    next_day(b.path()).expect("next day");
    next_day(b.path()).expect("next day");
    let days = files(a.path());
    assert_eq!(days, files(b.path()), "the same days for the same seed");
    // The history is left as it was; the days are files of their own.
    let kept: Vec<_> = days
        .iter()
        .filter(|(name, _)| !name.contains("day-") && name != "generate.json")
        .cloned()
        .collect();
    let before: Vec<_> = history
        .into_iter()
        .filter(|(name, _)| name != "generate.json")
        .collect();
    assert_eq!(kept, before);
    // Day 2's sessions happen on day 2, a few of them reported up to two days late.
    let (low, high, late) = day_web_events(a.path(), 2);
    assert!(low >= -2 * DAY && high < DAY, "{low} {high}");
    assert!(late > 0, "no late events");
    // Generating the history again removes the days (they continued other people).
    generate(&options(a.path())).expect("generate");
    assert!(
        files(a.path())
            .iter()
            .all(|(name, _)| !name.contains("day-"))
    );
    assert!(next_day(&a.path().join("nowhere")).is_err());
}
