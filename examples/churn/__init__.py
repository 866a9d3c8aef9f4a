"""The churn release story: real (synthetic, seeded) data, a real small model, sent through `emitters`."""
