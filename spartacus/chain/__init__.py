"""The chain client: everything that talks to the registry through web3.py.

- ``records``: typed records of the registry's state and events, and a campaign's history;
- ``artifact``: the compiled registry shipped in the package;
- ``events``: the one decoder of the registry's events;
- ``registry``: the client (reads, log history, EIP-712 signing, writes);
- ``rules``: the contract's rules restated once, checked before anything is sent;
- ``sender``: the one path that sends a transaction;
- ``reverts``: custom errors in words;
- ``health``: node failures in words fit for the public;
- ``deployments``: where the registry is;
- ``creation``, ``activity``, ``verify``: preparing a campaign, its recent pledges, and
  recounting it from the logs;
- ``directory``, ``key_check``: the custodian directory, and custodian keys checked against
  their endorsement signatures before a pledge is sealed to them;
- ``anvil``: the local development node.
"""
