"""Seed 003's Python processes: x + y and x - y, JSON on stdin and stdout."""
import json
import sys

OPS = {"add": lambda x, y: x + y, "subtract": lambda x, y: x - y}
op = sys.argv[1]
text = sys.stdin.read()
if not text.strip():
    print(json.dumps({"description": f"x {op} y", "inputs": {"x": 1.0, "y": 1.0}, "outputs": {"z": 1.0}}))
else:
    args = json.loads(text)
    print(json.dumps({"z": OPS[op](args["x"], args["y"])}))
