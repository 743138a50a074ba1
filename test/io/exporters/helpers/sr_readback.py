"""Reads a TID 1500 landmark SR with pydicom and prints its measurement groups as JSON."""
import json
import sys

import pydicom

ds = pydicom.dcmread(sys.argv[1])


def named(items, value):
    return [i for i in items if "ConceptNameCodeSequence" in i and i.ConceptNameCodeSequence[0].CodeValue == value]


measurements = named(ds.ContentSequence, "126010")[0]
groups = []
for group in named(measurements.ContentSequence, "125007"):
    region = named(group.ContentSequence, "111030")[0]
    groups.append({
        "id": str(named(group.ContentSequence, "112039")[0].TextValue),
        "uid": str(named(group.ContentSequence, "112040")[0].UID),
        "graphicType": str(region.GraphicType),
        "point": [float(v) for v in region.GraphicData],
        "image": str(region.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID),
    })
print(json.dumps({
    "sopClass": str(ds.SOPClassUID),
    "template": str(ds.ContentTemplateSequence[0].TemplateIdentifier),
    "groups": groups,
}))
