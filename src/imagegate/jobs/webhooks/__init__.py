"""Webhooks of jobs, per Standard Webhooks (https://www.standardwebhooks.com): when a job ends,
its `callback_url` (or its key's default webhook URL) is sent a signed POST, retried on a
schedule until it is answered with a 2xx (docs/jobs.md, "Webhooks").

- `signing.py`: secrets (`whsec_...`) and signatures.
- `targets.py`: which callback URLs are accepted (the SSRF rules of image URLs).
- `payload.py`: the event a job's end is, as the bytes sent.
- `schedule.py`: when a failed delivery is tried again.
- `deliveries.py`: the rows (a job's webhook and its attempts).
- `sender.py`: one attempt over HTTP, through the image fetcher's address policy.
- `deliverer.py`: the loop every serve process runs.
- `config.py`: its settings, checked before the gateway serves.
"""
