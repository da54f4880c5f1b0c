"""The peers of benches/predict.sh: LightGBM and scikit-learn's logistic regression on c360's
churn training rows, lifetimes' BG/NBD on c360's customer summaries; then the side-by-side
report. Arguments: see predict.sh."""
import csv
import sys
import time

import duckdb
import numpy as np
from lifetimes import BetaGeoFitter
from lightgbm import LGBMClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.impute import SimpleImputer

(training, holdout, scoring, c360_scores, person_of, truth_churn, clv_inputs, c360_train_csv,
 c360_train_s, c360_score_s, c360_scored_rows, c360_bgnbd_csv, c360_bgnbd_s) = sys.argv[1:14]


def frame(folder):
    return duckdb.sql(f"SELECT * FROM read_parquet('{folder}*.parquet')").df()


train, hold, score = frame(training), frame(holdout), frame(scoring)
features = [c for c in train.columns if c not in ("customer_id", "churned")]


def matrix(df):
    return df[features].astype("float64").to_numpy()


X, y = matrix(train), train["churned"].astype(int).to_numpy()
Xh, yh = matrix(hold), hold["churned"].astype(int).to_numpy()
Xs = matrix(score)

# The truth for the customers scored at the end: did their person churn in the horizon?
truth = duckdb.sql(f"""
  SELECT s.customer_id, t.churned_in_horizon AS y
  FROM read_parquet('{person_of}') s
  JOIN read_parquet('{truth_churn}/*.parquet') t ON t.person_id = s.person_id
  WHERE t.alive_at_cutoff""").df().set_index("customer_id")["y"]
score_truth = score["customer_id"].map(truth)
known = score_truth.notna().to_numpy()
ys = score_truth[known].astype(int).to_numpy()

rows = []
models = {
    "LightGBM": LGBMClassifier(n_estimators=300, learning_rate=0.05, num_leaves=31, verbose=-1,
                               random_state=42),
    "logistic regression": make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                                         LogisticRegression(max_iter=2000)),
}
for name, model in models.items():
    started = time.perf_counter()
    model.fit(X, y)
    fit_s = time.perf_counter() - started
    ph = model.predict_proba(Xh)[:, 1]
    big = np.tile(Xs, (20, 1))
    started = time.perf_counter()
    model.predict_proba(big)
    score_s = time.perf_counter() - started
    ps = model.predict_proba(Xs)[:, 1][known]
    rows.append((name, roc_auc_score(yh, ph), log_loss(yh, ph), roc_auc_score(ys, ps), fit_s,
                 len(big) / score_s))

metrics = {(r["set"], r["metric"]): float(r["value"]) for r in csv.DictReader(open(c360_train_csv))}
c360 = duckdb.sql(f"SELECT customer_id, score FROM read_parquet('{c360_scores}')").df()
c360 = c360.set_index("customer_id")["score"].reindex(score["customer_id"]).to_numpy()[known]
rows.insert(0, ("c360 train_classifier", metrics[("holdout", "auc")], metrics[("holdout", "log_loss")],
                roc_auc_score(ys, c360), float(c360_train_s), float(c360_scored_rows) / float(c360_score_s)))

print(f"churn: {len(train)} training rows, {len(hold)} holdout rows, {len(Xs)} scored "
      f"({known.sum()} with truth, {ys.sum()} churned), {len(features)} features")
print(f"  {'model':24s} {'holdout AUC':>11s} {'log loss':>9s} {'truth AUC':>9s} {'train s':>8s} {'rows/s scored':>14s}")
for name, auc_h, ll, auc_t, fit_s, rate in rows:
    print(f"  {name:24s} {auc_h:11.4f} {ll:9.4f} {auc_t:9.4f} {fit_s:8.2f} {rate:14,.0f}")
light = rows[1]
print(f"  c360 / LightGBM: holdout AUC {rows[0][1] - light[1]:+.4f}, truth AUC {rows[0][3] - light[3]:+.4f}, "
      f"training time ratio {rows[0][4] / light[4]:.2f} (c360 includes process start and reading the tables)")

# BG/NBD on the same summaries.
inputs = frame(clv_inputs)
started = time.perf_counter()
bgf = BetaGeoFitter(penalizer_coef=0.0).fit(inputs["frequency"], inputs["recency"], inputs["t"])
lifetimes_s = time.perf_counter() - started
params = bgf.params_
# lifetimes reports a scaled mean log-likelihood; recompute the total from its parameters.
from lifetimes.fitters.beta_geo_fitter import BetaGeoFitter as B
ll = -B._negative_log_likelihood(np.log(params[["r", "alpha", "a", "b"]].to_numpy()),
                                 inputs["frequency"].to_numpy(), inputs["recency"].to_numpy(),
                                 inputs["t"].to_numpy(), np.ones(len(inputs)), 0.0) * len(inputs)
ours = {r["parameter"]: float(r["value"]) for r in csv.DictReader(open(c360_bgnbd_csv)) if r["part"] == "bg_nbd"}
print(f"BG/NBD on {len(inputs)} customers:")
print(f"  c360 fit_clv_model {float(c360_bgnbd_s):6.2f} s  r={ours['r']:.4f} alpha={ours['alpha']:.4f} "
      f"a={ours['a']:.4f} b={ours['b']:.4f} LL={ours['log_likelihood']:.1f}")
print(f"  lifetimes          {lifetimes_s:6.2f} s  r={params['r']:.4f} alpha={params['alpha']:.4f} "
      f"a={params['a']:.4f} b={params['b']:.4f} LL={ll:.1f}")
print(f"  time ratio c360 / lifetimes {float(c360_bgnbd_s) / lifetimes_s:.2f} (c360 includes process start)")
