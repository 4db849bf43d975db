// The policy both agent test files push: a HostEndpoint on lo, a blocked network set, and a
// pre-DNAT policy that denies the set and allows TCP port 80.
export const POLICY = `apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata:
  name: node1-lo
  labels: {role: lab}
spec:
  node: node1
  interfaceName: lo
  expectedIPs: [127.0.0.1]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: blocked
  labels: {list: blocked}
spec:
  nets: [10.0.0.0/8]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: deny-blocked
spec:
  selector: role == 'lab'
  preDNAT: true
  applyOnForward: true
  order: 10
  types: [Ingress]
  ingress:
  - action: Deny
    source: {selector: list == 'blocked'}
  - action: Allow
    protocol: TCP
    destination: {ports: [80]}
`;
