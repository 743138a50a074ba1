"""Reference pixel values from pydicom (+ GDCM when installed) for the io tests.

usage: pydicom_reference.py OUT_DIR FILE...
For each FILE (index i) writes OUT_DIR/i.f64 (float64, frame-major, row-major, channels last) holding
modality values (Rescale applied) for grey images and RGB for colour ones, and prints one JSON line
per file: {"file", "ok", "shape", "photometric", "error"}.
"""
import json
import os
import sys
import warnings

warnings.simplefilter("ignore")

import numpy as np  # noqa: E402
import pydicom  # noqa: E402
from pydicom.pixel_data_handlers.util import apply_modality_lut, convert_color_space  # noqa: E402

out_dir = sys.argv[1]
for i, path in enumerate(sys.argv[2:]):
    line = {"file": path, "ok": False}
    try:
        ds = pydicom.dcmread(path, force=True)
        arr = ds.pixel_array
        photometric = str(ds.get("PhotometricInterpretation", ""))
        if ds.get("SamplesPerPixel", 1) == 1:
            arr = apply_modality_lut(arr, ds)
        elif photometric.startswith("YBR_FULL"):
            arr = convert_color_space(arr, photometric, "RGB")
        np.asarray(arr, dtype="<f8").tofile(os.path.join(out_dir, f"{i}.f64"))
        line.update(ok=True, shape=list(arr.shape), photometric=photometric)
    except Exception as e:  # report, do not stop: the test decides what a failure means
        line["error"] = str(e)[:200]
    print(json.dumps(line), flush=True)
