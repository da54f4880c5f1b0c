//! Kernel benchmark: scoring a gradient-boosted model, forust-ml's own `predict` (the learner
//! c360 trains with) against c360's flattened forest (`models::forest`), on the same booster
//! and rows: 300 trees of depth 4 over 26 features, 8,192 rows with 10% missing values.
//! Run: `cargo bench --bench scoring`.

use std::hint::black_box;

use c360::models::forest::Forest;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};

const ROWS: usize = 8192;
const COLS: usize = 26;

fn rows() -> (Vec<f64>, Vec<f64>) {
    let mut state = 11u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut data = vec![0.0; ROWS * COLS];
    for v in &mut data {
        let u = next();
        *v = if u < 0.1 { f64::NAN } else { u * 100.0 };
    }
    let y = (0..ROWS)
        .map(|r| {
            let signal: f64 = (0..6).map(|c| data[c * ROWS + r].min(100.0)).sum::<f64>();
            f64::from(u8::from(signal.is_nan() || signal + next() * 200.0 > 400.0))
        })
        .collect();
    (data, y)
}

fn scoring(c: &mut Criterion) {
    let (data, y) = rows();
    let mut booster = GradientBooster::default()
        .set_objective_type(ObjectiveType::LogLoss)
        .set_iterations(300)
        .set_max_depth(4)
        .set_learning_rate(0.05);
    booster
        .fit(&Matrix::new(&data, ROWS, COLS), &y, &vec![1.0; ROWS], None)
        .expect("training the benchmark's booster");
    let forest = Forest::of(&booster);
    let mut group = c.benchmark_group("score 8192 rows, 300 trees");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("forust-ml predict", |b| {
        b.iter(|| black_box(booster.predict(&Matrix::new(&data, ROWS, COLS), false)))
    });
    group.bench_function("c360 forest", |b| {
        b.iter(|| black_box(forest.scores(&data, ROWS)))
    });
    group.finish();
}

criterion_group!(benches, scoring);
criterion_main!(benches);
