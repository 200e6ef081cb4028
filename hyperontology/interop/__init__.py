"""Interoperability with the infrastructure: dataset descriptions (EUCAIM DCAT-AP) and the relational CDM."""
