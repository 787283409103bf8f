module lucid.local/probe

go 1.19
