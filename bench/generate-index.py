#!/usr/bin/env python3
"""Writes a registry index of N generated cloudlets (default 10,000) to stdout."""
import json, random, sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
rng = random.Random(42)
words = ("wiki web server database cache queue cluster proxy mail search analytics monitor "
         "backup storage stream gateway ldap vpn dns ci build deploy static php python java "
         "redis postgres mysql nginx apache kafka elastic mongo rabbit jenkins gitlab").split()
owners = ["huit", "tfhartmann", "acme", "example", "nepho", "labs", "ops", "data", "infra", "team"]
cloudlets = []
for i in range(n):
    owner = rng.choice(owners) + str(i % 97)
    base = "-".join(rng.sample(words, 2))
    name = f"{owner}/{base}-{i}"
    summary = " ".join(rng.sample(words, 5)).capitalize() + " on AWS"
    description = " ".join(rng.choice(words) for _ in range(40)) + "."
    versions = [f"v{major}.{minor}.0" for major in range(1, 3) for minor in range(3)][::-1]
    cloudlets.append({
        "name": name, "summary": summary, "description": description,
        "version": versions[0], "versions": versions,
        "source": f"https://git.example.com/{owner}/{base}-{i}.git",
        "author": owner, "license": "Apache-2.0",
        "project_page": f"https://example.com/{owner}/{base}-{i}",
        "keywords": rng.sample(words, 3),
    })
json.dump({"format_version": 1, "name": "generated", "cloudlets": cloudlets}, sys.stdout, indent=1)
