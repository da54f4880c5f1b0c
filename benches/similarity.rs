//! Kernel benchmark: the string similarities c360 uses (rapidfuzz) against strsim, the best
//! Rust crate we did not pick, on the same name pairs.
//! Run: `cargo bench --bench similarity`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

/// Realistic name pairs: typos, nicknames, swaps, unrelated names.
fn pairs() -> Vec<(String, String)> {
    let firsts = [
        "Katherine",
        "Robert",
        "Elizabeth",
        "Mohammed",
        "Wojciech",
        "Zoe",
        "Alexander",
    ];
    let lasts = [
        "Smith",
        "Kowalczyk",
        "Garcia",
        "O'Brien",
        "Nguyen",
        "Abernathy",
        "Lindqvist",
    ];
    let mut out = Vec::new();
    for (i, f) in firsts.iter().enumerate() {
        for (j, l) in lasts.iter().enumerate() {
            let a = format!("{f} {l}");
            let mut b: Vec<char> = a.chars().collect();
            if (i + j) % 3 == 0 && b.len() > 4 {
                b.swap(2, 3);
            }
            let b: String = b.into_iter().collect();
            out.push((a.to_lowercase(), b.to_lowercase()));
            out.push((
                f.to_lowercase(),
                lasts[(j + 1) % lasts.len()].to_lowercase(),
            ));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let pairs = pairs();
    let mut group = c.benchmark_group("jaro_winkler");
    group.bench_function("rapidfuzz (c360)", |b| {
        b.iter(|| {
            for (x, y) in &pairs {
                black_box(rapidfuzz::distance::jaro_winkler::similarity(
                    x.chars(),
                    y.chars(),
                ));
            }
        })
    });
    group.bench_function("strsim", |b| {
        b.iter(|| {
            for (x, y) in &pairs {
                black_box(strsim::jaro_winkler(x, y));
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("damerau_levenshtein");
    group.bench_function("rapidfuzz (c360)", |b| {
        b.iter(|| {
            for (x, y) in &pairs {
                black_box(rapidfuzz::distance::damerau_levenshtein::distance(
                    x.chars(),
                    y.chars(),
                ));
            }
        })
    });
    group.bench_function("strsim", |b| {
        b.iter(|| {
            for (x, y) in &pairs {
                black_box(strsim::damerau_levenshtein(x, y));
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("levenshtein_similarity");
    group.bench_function("rapidfuzz (c360)", |b| {
        b.iter(|| {
            for (x, y) in &pairs {
                black_box(rapidfuzz::distance::levenshtein::normalized_similarity(
                    x.chars(),
                    y.chars(),
                ));
            }
        })
    });
    group.bench_function("strsim", |b| {
        b.iter(|| {
            for (x, y) in &pairs {
                black_box(strsim::normalized_levenshtein(x, y));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
