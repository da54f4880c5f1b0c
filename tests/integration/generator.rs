//! The generator: deterministic for a seed, consistent with its ground truth, messy on purpose.

use c360::generate::{GenerateOptions, generate};
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
