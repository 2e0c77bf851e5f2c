"""The AWS side: register a thing with a certificate from a CSR made on this PC, and check it.

Pure parts (policy text, .env edit, thing names, the plan) never import boto3; the
boto3 calls sit in session.py (client, error translation), register.py and verify.py.
"""
