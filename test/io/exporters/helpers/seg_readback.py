"""Reads a DICOM SEG with pydicom and prints, per frame, the segment, the source SOP Instance UID and
a SHA-256 of the frame as uint8 (0/1 for BINARY, stored values for FRACTIONAL), as JSON."""
import hashlib
import json
import sys

import numpy as np
import pydicom

ds = pydicom.dcmread(sys.argv[1])
frames = ds.pixel_array
if frames.ndim == 2:
    frames = frames[np.newaxis]
out = {"sopClass": str(ds.SOPClassUID), "type": str(ds.SegmentationType), "rows": int(ds.Rows), "columns": int(ds.Columns), "frames": []}
for i, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
    segment = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
    source = str(item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID)
    frame = np.ascontiguousarray(frames[i].astype(np.uint8))
    out["frames"].append({
        "segment": segment,
        "source": source,
        "sha256": hashlib.sha256(frame.tobytes()).hexdigest(),
        "sum": int(frame.sum(dtype=np.int64)),
    })
print(json.dumps(out))
