"""百行征信: personal credit reports over HTTP Basic with RSA-encrypted name, ID number and mobile.

See README.md for the contract, the sandbox and which payload details are configurable.
"""
