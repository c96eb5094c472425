"""Evidently's side of the drift benchmark: read both CSVs with pandas and run the default
DataDriftPreset, as a user would; prints the seconds of the whole thing and of the report alone.

    python benches/drift/evidently_peer.py REFERENCE CURRENT
"""

import json
import sys
import time

import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

start = time.perf_counter()
reference = pd.read_csv(sys.argv[1])
current = pd.read_csv(sys.argv[2])
loaded = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(current, reference)
snapshot.dict()
done = time.perf_counter()
print(json.dumps({"total_s": done - start, "report_s": done - loaded}))
