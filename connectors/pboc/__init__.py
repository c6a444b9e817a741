"""人行二代征信: personal credit reports through a lender's licensed front-end gateway.

The connector signs each query (HMAC-SHA256), sends the recorded authorization with it, and maps
the second-generation segment report (PRH, PIM, PSM, PCO, PQO, PDA, POT/PCJ/PCE/PAP, POQ) onto
the canonical CreditReport. See README.md for the gateway contract and what is configurable.
"""
