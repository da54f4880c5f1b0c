-- The lifetime-value model of the sample: BG/NBD purchases and Gamma-Gamma spend fitted on
-- every customer's orders, saved as models/clv.json. This table is the fit report.
SELECT * FROM fit_clv_model('clv', 'clv_inputs')
