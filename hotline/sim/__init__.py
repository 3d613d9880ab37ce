"""The PBX simulator's parts; the public face is `hotline.sim.simulator.PbxSimulator`.

wire (AMI text), model (channels, bridges, queues, AstDB), render (Asterisk 22 field order),
pbx (model changes that emit events), dialplan (lines, queues, phones), calls (scenarios),
actions (what AMI actions do), server (TCP sessions).
"""
