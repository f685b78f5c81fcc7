//! Authorization requests, codes, token families, refresh and access tokens.
