"""Updates to a petition's signers: written in the admin, sent once to each consenting signer."""
