"""What a run watches in itself: pathology monitors and the labelled stops they raise, epoch meters,
the input-output Jacobian's condition number."""
