"""e签宝 (esign.cn) open API v3: contracts signed electronically, with signed callbacks.

Split as every connector folder is: ``client`` (signing, codes), ``mapping`` (vendor JSON ↔
canonical), ``connector`` (the ESignature port), ``simulator`` (the vendor's side), ``plugin``.
"""
